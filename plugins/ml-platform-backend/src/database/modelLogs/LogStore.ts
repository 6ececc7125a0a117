/** Where a log line comes from. */
export type LogSource = 'build' | 'deployment' | 'execution';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** A line of a model's logs. */
export interface ModelLogLine {
  id: number;
  modelRef: string;
  source: LogSource;
  /** The build, deployment or execution. */
  subjectId: string;
  version: number;
  /** Epoch milliseconds. */
  time: number;
  level: LogLevel;
  /** A build step, a replica, or a worker. */
  stream?: string;
  line: string;
}

export type NewLogLine = Omit<ModelLogLine, 'id'>;

export interface LogQuery {
  modelRef: string;
  source?: LogSource;
  /** A substring of the line, case-insensitive. */
  q?: string;
  /** This level and above. */
  level?: LogLevel;
  from?: number;
  to?: number;
  subjectId?: string;
  /** Lines after this id, oldest first (follow); else the newest `limit`. */
  afterId?: number;
  limit: number;
}

/** The searchable logs of every model. */
export interface LogStore {
  appendLines(lines: NewLogLine[]): Promise<void>;
  /** Matching lines, oldest first. */
  searchLines(query: LogQuery): Promise<ModelLogLine[]>;
  deleteBefore(time: number): Promise<number>;
}
