import type {
  ModelLogPage,
  ModelSubscription,
  PredictionEvent,
  SubscriptionRequest,
  UpdateSubscriptionRequest,
} from './schema/openapi/generated/models';

/** The topic every prediction event is published on. @public */
export const PREDICTION_EVENTS_TOPIC = 'ml-platform.prediction';
/** Where failed subscription deliveries are published. @public */
export const DEAD_LETTER_TOPIC = 'ml-platform.deadletter';

/** How a prediction was asked for. @public */
export type PredictionTrigger = PredictionEvent['trigger'];

/** Counters of a subscription since it was made. @public */
export type SubscriptionCounters = ModelSubscription['counters'];

/** What `POST models/{ns}/{name}/subscriptions` takes. @public */
export type SubscriptionBody = SubscriptionRequest;

/** What `PATCH subscriptions/{id}` takes. @public */
export type SubscriptionUpdate = UpdateSubscriptionRequest;

/** A line of a model's logs. @public */
export type ModelLogLine = ModelLogPage['items'][number];

/** Where a model log line comes from. @public */
export type ModelLogSource = ModelLogLine['source'];

/** @public */
export type ModelLogLevel = ModelLogLine['level'];

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
