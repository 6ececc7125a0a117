import { LogLevel } from '../database/modelLogs/LogStore';

const ERROR =
  /\b(ERROR|CRITICAL|FATAL|Traceback \(most recent call last\)|Exception|failed)\b/;
const WARN = /\b(WARN|WARNING|DEPRECATED)\b/;
const DEBUG = /\bDEBUG\b/;

/**
 * A line's level, read from the words logging libraries put in it
 * (Python's `logging`, pip, the runtime's own messages). A line that says
 * nothing is `info`.
 */
export function levelOf(line: string): LogLevel {
  if (ERROR.test(line)) return 'error';
  if (WARN.test(line)) return 'warn';
  if (DEBUG.test(line)) return 'debug';
  return 'info';
}
