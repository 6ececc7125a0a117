import { LogLevel } from '../database/modelLogs/LogStore';

/**
 * The words logging libraries put in a line (Python's `logging`, pip, the
 * runtime's own messages), in one pattern: every line is read once, and
 * most lines (access log lines) hold none of them.
 */
const LEVEL_WORDS =
  /\b(?:(ERROR|CRITICAL|FATAL|Exception|failed)\b|(Traceback \(most recent call last\))|(WARN|WARNING|DEPRECATED)\b|(DEBUG)\b)/g;

/**
 * A line's level: the most severe its words say (an error word wins over
 * a warning word, which wins over DEBUG). A line that says nothing is
 * `info`.
 */
export function levelOf(line: string): LogLevel {
  let level: LogLevel = 'info';
  LEVEL_WORDS.lastIndex = 0;
  for (let m = LEVEL_WORDS.exec(line); m; m = LEVEL_WORDS.exec(line)) {
    if (m[1] || m[2]) return 'error';
    if (m[3]) level = 'warn';
    else if (level !== 'warn') level = 'debug';
  }
  return level;
}
