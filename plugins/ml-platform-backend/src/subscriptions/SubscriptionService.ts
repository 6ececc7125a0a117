import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  DeadLetter,
  ModelDeployment,
  ModelSubscription,
  mlPlatformDeploymentUpdatePermission,
} from '@internal/plugin-ml-platform-common';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Caller } from '../activity/ModelChanges';
import {
  DeliveryRecord,
  SubscriptionRecord,
  SubscriptionStore,
  SubscriptionUpdate,
} from '../database/subscriptions/SubscriptionStore';
import { ModelCatalog } from '../services/ModelCatalog';
import {
  createSubscriptionBody,
  updateSubscriptionBody,
} from './subscriptionRequests';

type ModelRef = { namespace: string; name: string };

/** The output topic when none is given: `ml-platform.prediction.<model>`. */
export function defaultOutputTopic(modelRef: string): string {
  return `ml-platform.prediction.${parseEntityRef(modelRef).name}`;
}

function toDeadLetter(d: DeliveryRecord): DeadLetter {
  return {
    id: d.id,
    subscriptionId: d.subscriptionId,
    eventId: d.eventKey,
    topic: d.topic,
    payload: d.payload as DeadLetter['payload'],
    reason: d.reason ?? '',
    attempts: d.attempts,
    receivedAt: new Date(d.receivedAt).toISOString(),
    failedAt: new Date(d.finishedAt ?? d.receivedAt).toISOString(),
  };
}

/**
 * Subscriptions of a model's online deployment to events-service topics:
 * read by whoever reads the model, changed by whoever may update its
 * deployments (`ml-platform.deployment.update`), every change audited.
 */
export class SubscriptionService {
  constructor(
    private readonly options: {
      store: SubscriptionStore;
      models: ModelCatalog;
      getDeployment(id: string): Promise<ModelDeployment | undefined>;
      /** Called after a change, so this instance listens to a new topic now. */
      onChange(): Promise<void>;
      now?: () => number;
    },
  ) {}

  async list(
    ref: ModelRef,
    credentials: BackstageCredentials,
  ): Promise<ModelSubscription[]> {
    const entity = await this.options.models.getEntity(ref, credentials);
    const records = await this.options.store.listSubscriptions({
      modelRef: stringifyEntityRef(entity),
    });
    return this.withLag(records);
  }

  async get(id: string, credentials: BackstageCredentials) {
    const record = await this.readable(id, credentials);
    return (await this.withLag([record]))[0];
  }

  async create(
    ref: ModelRef,
    body: z.output<typeof createSubscriptionBody>,
    caller: Caller,
  ): Promise<ModelSubscription> {
    const id = randomUUID();
    const created = await this.options.models.change(
      ref,
      caller,
      {
        action: 'subscription.create',
        permission: mlPlatformDeploymentUpdatePermission,
      },
      async (_entity, modelRef) => {
        await this.checkDeployment(body.deploymentId, modelRef);
        const outputTopic = body.outputTopic ?? defaultOutputTopic(modelRef);
        if (outputTopic === body.topic) {
          throw new InputError(
            'body.outputTopic: must differ from body.topic, or each prediction triggers the next',
          );
        }
        await this.options.store.createSubscription({
          id,
          modelRef,
          deploymentId: body.deploymentId,
          topic: body.topic,
          filter: body.filter,
          mapping: body.mapping,
          outputTopic,
          idempotencyKey: body.idempotencyKey,
          enabled: body.enabled ?? true,
          createdAt: new Date(this.now()).toISOString(),
        });
        return {
          result: id,
          message: `Subscribed deployment ${body.deploymentId} to ${body.topic}, predictions to ${outputTopic}`,
          subjectId: id,
        };
      },
    );
    await this.options.onChange();
    return this.get(created, caller.credentials);
  }

  async update(
    id: string,
    body: z.output<typeof updateSubscriptionBody>,
    caller: Caller,
  ): Promise<ModelSubscription> {
    const before = await this.readable(id, caller.credentials);
    await this.options.models.change(
      parseEntityRef(before.modelRef) as ModelRef,
      caller,
      {
        action: 'subscription.update',
        permission: mlPlatformDeploymentUpdatePermission,
      },
      async (_entity, modelRef) => {
        const update: SubscriptionUpdate = {};
        if (body.deploymentId !== undefined) {
          await this.checkDeployment(body.deploymentId, modelRef);
          update.deploymentId = body.deploymentId;
        }
        if (body.topic !== undefined) update.topic = body.topic;
        if (body.filter !== undefined) update.filter = body.filter ?? undefined;
        if (body.mapping !== undefined) update.mapping = body.mapping;
        if (body.outputTopic !== undefined)
          update.outputTopic = body.outputTopic;
        if (body.idempotencyKey !== undefined) {
          update.idempotencyKey = body.idempotencyKey ?? undefined;
        }
        if (body.enabled !== undefined) update.enabled = body.enabled;
        if (
          (update.outputTopic ?? before.outputTopic) ===
          (update.topic ?? before.topic)
        ) {
          throw new InputError(
            'body.outputTopic: must differ from body.topic, or each prediction triggers the next',
          );
        }
        await this.options.store.updateSubscription(id, update);
        return {
          result: undefined,
          message: `Changed subscription to ${update.topic ?? before.topic} (${
            Object.keys(update).join(', ') || 'nothing'
          })`,
          subjectId: id,
        };
      },
    );
    await this.options.onChange();
    return this.get(id, caller.credentials);
  }

  async remove(id: string, caller: Caller): Promise<void> {
    const before = await this.readable(id, caller.credentials);
    await this.options.models.change(
      parseEntityRef(before.modelRef) as ModelRef,
      caller,
      {
        action: 'subscription.delete',
        permission: mlPlatformDeploymentUpdatePermission,
      },
      async () => {
        await this.options.store.deleteSubscription(id);
        return {
          result: undefined,
          message: `Unsubscribed from ${before.topic}`,
          subjectId: id,
        };
      },
    );
    await this.options.onChange();
  }

  async deadLetters(
    id: string,
    limit: number,
    credentials: BackstageCredentials,
  ): Promise<DeadLetter[]> {
    await this.readable(id, credentials);
    return (await this.options.store.listDeadLetters([id], limit)).map(
      toDeadLetter,
    );
  }

  /** Puts a dead letter back as pending: the dispatcher tries it again. */
  async retryDeadLetter(
    id: string,
    deliveryId: string,
    caller: Caller,
  ): Promise<void> {
    const subscription = await this.readable(id, caller.credentials);
    await this.options.models.change(
      parseEntityRef(subscription.modelRef) as ModelRef,
      caller,
      {
        action: 'subscription.retry',
        permission: mlPlatformDeploymentUpdatePermission,
      },
      async () => {
        const delivery = await this.options.store.getDelivery(deliveryId);
        if (
          !delivery ||
          delivery.subscriptionId !== id ||
          delivery.status !== 'dead'
        ) {
          throw new NotFoundError(
            `No dead letter ${deliveryId} in subscription ${id}`,
          );
        }
        await this.options.store.retryDelivery(
          deliveryId,
          0,
          this.now(),
          `retried: ${delivery.reason ?? ''}`,
        );
        return {
          result: undefined,
          message: `Retried event ${delivery.eventKey} (${delivery.reason})`,
          subjectId: id,
        };
      },
    );
  }

  private now() {
    return this.options.now?.() ?? Date.now();
  }

  /** The subscription, if its model is visible to the caller. */
  private async readable(id: string, credentials: BackstageCredentials) {
    const record = await this.options.store.getSubscription(id);
    if (!record) throw new NotFoundError(`No subscription ${id}`);
    try {
      await this.options.models.assertVisible(record.modelRef, credentials);
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new NotFoundError(`No subscription ${id}`);
      }
      throw error;
    }
    return record;
  }

  private async checkDeployment(deploymentId: string, modelRef: string) {
    const deployment = await this.options.getDeployment(deploymentId);
    if (!deployment || deployment.modelRef !== modelRef) {
      throw new InputError(
        `body.deploymentId: no deployment ${deploymentId} of ${modelRef}`,
      );
    }
    if (deployment.type !== 'online') {
      throw new InputError(
        `body.deploymentId: deployment ${deploymentId} is a ${deployment.type} deployment; events need an online one`,
      );
    }
  }

  private async withLag(records: SubscriptionRecord[]) {
    const oldest = await this.options.store.oldestPending(
      records.map(r => r.id),
    );
    const now = this.now();
    return records.map(
      ({
        received,
        filtered,
        predicted,
        failed,
        ...rest
      }): ModelSubscription => {
        const since = oldest.get(rest.id);
        return {
          ...rest,
          counters: {
            received,
            filtered,
            predicted,
            failed,
            lagSeconds:
              since === undefined ? 0 : Math.max(0, (now - since) / 1000),
          },
        };
      },
    );
  }
}
