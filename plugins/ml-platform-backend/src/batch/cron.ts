import { CronTime } from 'cron';

/**
 * Why the scheduler could not run a cron expression, or undefined: parsed by
 * the scheduler's own library, not pattern-matched.
 */
export function cronProblem(expression: string): string | undefined {
  if (!/^(\S+\s+){4,5}\S+$/.test(expression)) {
    return 'expected 5 fields (or 6 with seconds)';
  }
  try {
    new CronTime(expression).getNextDateFrom(new Date());
    return undefined;
  } catch (error) {
    return String((error as Error).message ?? error)
      .split('\n')[0]
      .slice(0, 200);
  }
}
