import {
  BatchStepSums,
  CallStepSums,
  KpiStepSums,
  MetricsBatch,
  MetricsWindow,
  ModelCallSums,
  PredictionSums,
  ReplicaStepSums,
  SeriesInWindow,
  StepWindow,
} from './types';

/**
 * The embedded metrics store: counts per model and minute, written in
 * batches by the recorder, summed by the database when read, downsampled to
 * hours and dropped by the retention task.
 */
export interface MetricsStore {
  /** Adds the counts to their rows (created when missing), in one transaction. */
  add(batch: MetricsBatch): Promise<void>;

  /** Calls summed per step, resolution and version. */
  sumCalls(window: StepWindow): Promise<CallStepSums[]>;
  /** Calls summed per model over the window (every model when no modelRef). */
  sumCallsByModel(window: MetricsWindow): Promise<ModelCallSums[]>;
  /** Prediction counts per output and bin over the whole window. */
  sumPredictions(window: MetricsWindow): Promise<PredictionSums[]>;
  sumKpis(window: StepWindow): Promise<KpiStepSums[]>;
  sumBatch(window: StepWindow): Promise<BatchStepSums[]>;
  /** Replica health per step, resolution and backend instance. */
  sumReplicas(window: StepWindow): Promise<ReplicaStepSums[]>;
  /** The deployments and versions with data in the window. */
  listSeries(window: MetricsWindow): Promise<SeriesInWindow[]>;

  /**
   * Merges raw (minute) rows that start before `before` (a whole hour) into
   * hour rows, and deletes them. Returns how many raw rows it merged.
   */
  downsample(before: number): Promise<number>;
  /** Deletes rows of `resolution` that start before `before`. */
  deleteBefore(resolution: number, before: number): Promise<number>;
}
