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
 * batches by the recorder (each minute also added to its hour), summed by
 * the database when read. The retention task drops minutes after
 * `retention.raw` (their hours stay) and hours after `retention.hourly`.
 */
export interface MetricsStore {
  /**
   * Adds the counts to their minute rows and to the hour rows holding them
   * (created when missing), in one transaction.
   */
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
   * Downsamples: deletes the minute rows of the hours that end before
   * `before`; the hour rows keep their counts. Returns how many it deleted.
   */
  downsample(before: number): Promise<number>;
  /** Deletes rows of `resolution` that start before `before`. */
  deleteBefore(resolution: number, before: number): Promise<number>;
}
