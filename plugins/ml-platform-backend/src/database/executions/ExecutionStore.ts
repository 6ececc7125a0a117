import {
  BatchExecution,
  ExecutionInput,
  ExecutionOutput,
  ExecutionStatus,
} from '@internal/plugin-ml-platform-common';

export interface NewExecution {
  modelRef: string;
  deploymentId?: string;
  buildId: string;
  input: ExecutionInput;
  output: ExecutionOutput;
  chunkSize: number;
  parallelism: number;
  maxRetries: number;
  trigger?: 'api' | 'schedule';
  createdBy?: string;
}

export type ChunkStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export interface ChunkRecord {
  executionId: string;
  seq: number;
  rowStart: number;
  rowEnd: number;
  status: ChunkStatus;
  attempts: number;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** An execution with the stored input and output descriptions. */
export interface ExecutionRecord extends BatchExecution {
  input: ExecutionInput;
  output: ExecutionOutput;
}

export type ExecutionUpdate = Partial<
  Pick<
    ExecutionRecord,
    | 'status'
    | 'chunksTotal'
    | 'rowsTotal'
    | 'error'
    | 'resultUri'
    | 'startedAt'
    | 'finishedAt'
  >
>;

export type ChunkUpdate = Partial<
  Pick<
    ChunkRecord,
    'status' | 'attempts' | 'error' | 'startedAt' | 'finishedAt'
  >
>;

/**
 * Batch executions and their chunks, with the claims and heartbeats that let
 * another backend instance resume an execution whose runner died.
 */
export interface ExecutionStore {
  createExecution(execution: NewExecution): Promise<ExecutionRecord>;
  updateExecution(
    id: string,
    update: ExecutionUpdate,
  ): Promise<ExecutionRecord>;
  /**
   * Makes `workerId` run an execution: one nobody claimed, or (with
   * `staleBefore`) one whose runner stopped beating. True when it won.
   */
  claimExecution(
    id: string,
    workerId: string,
    staleBefore?: Date,
  ): Promise<boolean>;
  heartbeatExecutions(ids: string[]): Promise<void>;
  /** Unfinished executions whose runner stopped beating (or never started). */
  listStaleExecutions(before: Date): Promise<ExecutionRecord[]>;
  requestExecutionCancel(id: string): Promise<void>;
  listCancelRequestedExecutions(ids: string[]): Promise<string[]>;
  /** The execution with chunk and row counts summed from its chunks. */
  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  listExecutions(options: {
    modelRef?: string;
    status?: ExecutionStatus[];
    limit?: number;
  }): Promise<ExecutionRecord[]>;
  /** How many executions of each of `refs` are pending or running. */
  countActiveExecutions(refs: string[]): Promise<Map<string, number>>;
  /** Records chunks; those already stored are left as they are. */
  addChunks(chunks: Omit<ChunkRecord, 'status' | 'attempts'>[]): Promise<void>;
  updateChunk(
    executionId: string,
    seq: number,
    update: ChunkUpdate,
  ): Promise<void>;
  listChunks(
    executionId: string,
    options?: { status?: ChunkStatus[] },
  ): Promise<ChunkRecord[]>;
}
