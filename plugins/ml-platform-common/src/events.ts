/** How a prediction was asked for. @public */
export type PredictionTrigger = 'http' | 'event' | 'batch';

/**
 * One invocation of a model (a records or V2 call, an event a subscription
 * turned into a call, or one batch chunk as a summary): what the events
 * service publishes on `ml-platform.prediction` and
 * `GET models/{ns}/{name}/events` answers.
 *
 * @public
 */
export interface PredictionEvent {
  /** The request id (a chunk: `<executionId>:<seq>`). */
  id: string;
  time: string;
  modelRef: string;
  /** The build version, 0 when unknown. */
  version: number;
  buildId: string;
  deploymentId?: string;
  executionId?: string;
  /** `user:default/ada`, `service:<subject>`, or the subscription for events. */
  caller?: string;
  callerKind: 'user' | 'service' | 'event' | 'batch';
  trigger: PredictionTrigger;
  /** `records`, `v2`, `event` or `batch`. */
  route: string;
  latencyMs: number;
  /** HTTP status of the call; a chunk: 200 when it succeeded, 500 otherwise. */
  status: number;
  rows?: number;
  error?: string;
  /** The request body (JSON), redacted; absent when not sampled or too large. */
  request?: unknown;
  /** The model's answer (JSON); absent when not sampled or too large. */
  response?: unknown;
  /** True when sampling kept the payloads. */
  sampled: boolean;
  /** True when a payload was over `maxPayloadBytes` and left out. */
  truncated?: boolean;
  /** The event a subscription predicted (trigger `event`). */
  sourceEventId?: string;
  subscriptionId?: string;
}

/** A page of prediction events, newest first. @public */
export interface PredictionEventPage {
  items: PredictionEvent[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

/** The topic every prediction event is published on. @public */
export const PREDICTION_EVENTS_TOPIC = 'ml-platform.prediction';
/** Where failed subscription deliveries are published. @public */
export const DEAD_LETTER_TOPIC = 'ml-platform.deadletter';

/**
 * A condition on an event payload: the value at a JSONPath (`$.a.b`,
 * `$.items[0].kind`) equals `equals`, is one of `in`, or exists. A list
 * must all hold.
 *
 * @public
 */
export interface SubscriptionCondition {
  path: string;
  equals?: unknown;
  in?: unknown[];
  exists?: boolean;
}

/**
 * Payload fields to model input columns: one row, or one row per element
 * of the array at `rows` (column paths then relative to the element, `$`).
 *
 * @public
 */
export interface SubscriptionMapping {
  rows?: string;
  columns?: Record<string, string>;
}

/** Counters of a subscription since it was made. @public */
export interface SubscriptionCounters {
  received: number;
  filtered: number;
  predicted: number;
  failed: number;
  /** Seconds the oldest undelivered event has waited; 0 when none waits. */
  lagSeconds: number;
}

/** A model's online deployment subscribed to an events-service topic. @public */
export interface ModelSubscription {
  id: string;
  modelRef: string;
  deploymentId: string;
  topic: string;
  filter?: SubscriptionCondition | SubscriptionCondition[];
  mapping: SubscriptionMapping;
  /** Default `ml-platform.prediction.<model name>`. */
  outputTopic: string;
  /** A payload path for the idempotency key; by default the event's id. */
  idempotencyKey?: string;
  enabled: boolean;
  counters: SubscriptionCounters;
  createdAt: string;
  updatedAt: string;
}

/** An event a subscription could not predict. @public */
export interface DeadLetter {
  id: string;
  subscriptionId: string;
  /** The source event's id (its idempotency key). */
  eventId: string;
  topic: string;
  payload: unknown;
  reason: string;
  attempts: number;
  receivedAt: string;
  failedAt: string;
}

/** Filters of `GET models/{ns}/{name}/events`. @public */
export interface PredictionEventQuery {
  /** RFC 3339 or epoch milliseconds. */
  from?: string;
  to?: string;
  /** A code, a class such as `5xx`, or `error`. */
  status?: string;
  version?: number;
  caller?: string;
  trigger?: PredictionTrigger;
  limit?: number;
  cursor?: string;
}

/** What `POST models/{ns}/{name}/subscriptions` takes. @public */
export interface SubscriptionBody {
  deploymentId: string;
  topic: string;
  filter?: SubscriptionCondition | SubscriptionCondition[] | null;
  mapping: SubscriptionMapping;
  outputTopic?: string;
  idempotencyKey?: string | null;
  enabled?: boolean;
}

/** Where a model log line comes from. @public */
export type ModelLogSource = 'build' | 'deployment' | 'execution';

/** @public */
export type ModelLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A line of a model's logs. @public */
export interface ModelLogLine {
  id: number;
  source: ModelLogSource;
  /** The build, deployment or execution. */
  subjectId: string;
  version: number;
  time: string;
  level: ModelLogLevel;
  /** A build step, a replica, or a worker. */
  stream?: string;
  line: string;
}

/** Lines oldest first; `lastId` continues a follow. @public */
export interface ModelLogPage {
  items: ModelLogLine[];
  lastId: number;
}

/** Filters of `GET models/{ns}/{name}/logs`. @public */
export interface ModelLogQuery {
  source?: ModelLogSource;
  q?: string;
  /** This level and above. */
  level?: ModelLogLevel;
  from?: string;
  to?: string;
  subject?: string;
  /** Only lines after this id (follow). */
  after?: number;
  limit?: number;
}
