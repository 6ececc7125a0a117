import {
  SubscriptionCondition,
  SubscriptionMapping,
} from '@internal/plugin-ml-platform-common';

/** A subscription as stored, counters without the lag. */
export interface SubscriptionRecord {
  id: string;
  modelRef: string;
  deploymentId: string;
  topic: string;
  filter?: SubscriptionCondition | SubscriptionCondition[];
  mapping: SubscriptionMapping;
  outputTopic: string;
  idempotencyKey?: string;
  enabled: boolean;
  received: number;
  filtered: number;
  predicted: number;
  failed: number;
  createdAt: string;
  updatedAt: string;
}

export type NewSubscription = Omit<
  SubscriptionRecord,
  'received' | 'filtered' | 'predicted' | 'failed' | 'updatedAt'
>;

export type SubscriptionUpdate = Partial<
  Pick<
    SubscriptionRecord,
    | 'deploymentId'
    | 'topic'
    | 'filter'
    | 'mapping'
    | 'outputTopic'
    | 'idempotencyKey'
    | 'enabled'
  >
>;

export type Counter = 'received' | 'filtered' | 'predicted' | 'failed';

export type DeliveryStatus = 'pending' | 'predicted' | 'filtered' | 'dead';

/** An event a subscription received. */
export interface DeliveryRecord {
  id: string;
  subscriptionId: string;
  /** The idempotency key: one delivery per subscription and key. */
  eventKey: string;
  topic: string;
  payload: unknown;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  reason?: string;
  receivedAt: number;
  finishedAt?: number;
}

/** A received event to store, and its receiver's claim on it. */
export interface NewDelivery {
  delivery: Omit<DeliveryRecord, 'attempts' | 'status'>;
  claim?: { owner: string; until: number };
}

/** Subscriptions, their counters and deliveries (inbox, keys, dead letters). */
export interface SubscriptionStore {
  createSubscription(subscription: NewSubscription): Promise<void>;
  getSubscription(id: string): Promise<SubscriptionRecord | undefined>;
  listSubscriptions(filter?: {
    modelRef?: string;
    enabled?: boolean;
  }): Promise<SubscriptionRecord[]>;
  updateSubscription(id: string, update: SubscriptionUpdate): Promise<void>;
  deleteSubscription(id: string): Promise<void>;
  /** Adds to counters in the database (instances never overwrite each other). */
  count(id: string, counters: Partial<Record<Counter, number>>): Promise<void>;

  /**
   * Stores received events as pending, in one write; per event, false when
   * its subscription already has an event with its key (a redelivery, or
   * another instance's copy, or an earlier one of the same batch). A
   * delivery with `claim` is claimed by its receiver at once.
   */
  insertDeliveries(received: ReadonlyArray<NewDelivery>): Promise<boolean[]>;
  /**
   * Claims pending deliveries due at `now` for `leaseMs`: one instance
   * works on a delivery at a time; an expired claim (a dead instance) is
   * taken over. `ids` limits the claim to those deliveries.
   */
  claimDeliveries(options: {
    owner: string;
    now: number;
    leaseMs: number;
    limit: number;
    ids?: string[];
  }): Promise<DeliveryRecord[]>;
  /** Ends a delivery (predicted, filtered, dead) and releases its claim. */
  finishDelivery(
    id: string,
    outcome: { status: Exclude<DeliveryStatus, 'pending'>; reason?: string },
    attempts: number,
    now: number,
  ): Promise<void>;
  /**
   * Ends deliveries as predicted and releases their claims: one statement
   * per distinct attempt count, whatever the number of deliveries.
   */
  finishPredicted(
    finished: ReadonlyArray<{ id: string; attempts: number }>,
    now: number,
  ): Promise<void>;
  /** Releases a claim to try again at `nextAttemptAt`. */
  retryDelivery(
    id: string,
    attempts: number,
    nextAttemptAt: number,
    reason: string,
  ): Promise<void>;
  /**
   * Releases the claims `owner` still holds on pending deliveries (an
   * instance shutting down), so another instance, or this one after a
   * restart, takes them at once instead of after the lease. Returns how
   * many were released.
   */
  releaseClaims(owner: string): Promise<number>;
  getDelivery(id: string): Promise<DeliveryRecord | undefined>;
  /** Dead letters of the subscriptions, newest first. */
  listDeadLetters(
    subscriptionIds: string[],
    limit: number,
  ): Promise<DeliveryRecord[]>;
  /** When the oldest pending delivery of each subscription was received. */
  oldestPending(subscriptionIds: string[]): Promise<Map<string, number>>;
  /** Deletes finished deliveries (keys included) older than `time`. */
  deleteFinishedBefore(time: number): Promise<number>;
}
