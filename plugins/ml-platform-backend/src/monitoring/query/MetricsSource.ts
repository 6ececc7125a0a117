import { ModelTraffic } from '@internal/plugin-ml-platform-common';
import { StepData } from './StepData';

/** What a metrics route asks for: one model, a range cut into steps, filters. */
export interface MetricsRequest {
  modelRef: string;
  /** Epoch milliseconds; the range is [from, from + steps × stepMs). */
  from: number;
  stepMs: number;
  steps: number;
  deploymentId?: string;
  version?: number;
}

/**
 * Where model health comes from: the embedded store, or a Prometheus that
 * scrapes the platform (PromQL). Both fill the same step counts.
 */
export interface MetricsSource {
  readonly type: 'embedded' | 'prometheus';
  /** The model's counts per step, and its prediction distribution now and before. */
  read(request: MetricsRequest): Promise<StepData>;
  /** Calls of every model in [from, to) (`ref`: the entity ref), for the ML Platform page. */
  traffic(from: number, to: number): Promise<ModelTraffic[]>;
}
