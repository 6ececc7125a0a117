import {
  AuditorService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, isError } from '@backstage/errors';
import {
  MlPlatformPermission,
  ModelActivity,
  ModelActivityAction,
  ModelActivityOutcome,
} from '@internal/plugin-ml-platform-common';
import type { Request } from 'express';
import { ModelAccess, principalRef } from '../access/ModelAccess';
import { ActivityStore } from '../database/activity/ActivityStore';
import { QuotaExceededError } from '../quotas/Quotas';

/** Who asks for a change over HTTP, and the request that carried it. */
export interface Caller {
  credentials: BackstageCredentials;
  /** The HTTP request: the audit event takes its actor, IP and URL from it. */
  request?: Request;
  /** The request's id, sent back as `X-Request-Id`. */
  requestId?: string;
}

/** A change the platform makes on its own (push, poll, schedule). */
export interface AutomaticChange {
  /** Recorded as the actor, e.g. `ml-platform:push`. */
  actor: string;
}

/** What a change did, for the activity and the audit event. */
export interface ChangeOutcome<T> {
  result: T;
  /** What happened, e.g. `Deployed build v3 online with 2 replicas`. */
  message: string;
  /** The build, deployment or execution it made or changed. */
  subjectId?: string;
}

function outcomeOf(error: unknown): ModelActivityOutcome {
  return error instanceof NotAllowedError || error instanceof QuotaExceededError
    ? 'refused'
    : 'failed';
}

/**
 * Every change of a model goes through here: authorized on the model's
 * entity, applied, and recorded however it ended (done, refused, failed):
 * as an audit event through the auditor service, so the portal's audit log
 * has it with the actor and request, and as an entry of the model's
 * activity (`GET models/{ns}/{name}/activity`).
 */
export class ModelChanges {
  constructor(
    private readonly options: {
      access: ModelAccess;
      auditor: AuditorService;
      store: ActivityStore;
      logger: LoggerService;
    },
  ) {}

  /**
   * A change a caller asked for: refused with the policy's reason unless
   * the caller holds `permission` on the model, else `change` runs (it
   * checks and applies the change). Alert rules (`alert.update` with
   * `mlPlatformAlertUpdatePermission`) go through here like the rest.
   */
  apply<T>(
    caller: Caller,
    what: {
      action: ModelActivityAction;
      permission: MlPlatformPermission;
      modelRef: string;
      subjectId?: string;
    },
    change: () => Promise<ChangeOutcome<T>>,
  ): Promise<T> {
    return this.record(caller, what, async () => {
      await this.options.access.authorize(
        caller.credentials,
        what.permission,
        what.modelRef,
      );
      return change();
    });
  }

  /**
   * Runs `change` (which authorizes, checks and applies it) and records how
   * it ended; its result or error passes through unchanged.
   */
  async record<T>(
    by: Caller | AutomaticChange,
    what: {
      action: ModelActivityAction;
      modelRef: string;
      subjectId?: string;
    },
    change: () => Promise<ChangeOutcome<T>>,
  ): Promise<T> {
    const caller = 'credentials' in by ? by : undefined;
    const actor = caller
      ? principalRef(caller.credentials) ?? 'unknown'
      : (by as AutomaticChange).actor;
    const meta = {
      action: what.action,
      modelRef: what.modelRef,
      actor,
      requestId: caller?.requestId,
      subjectId: what.subjectId,
    };
    const event = await this.options.auditor.createEvent({
      eventId: what.action.replace('.', '-'),
      severityLevel: 'medium',
      request: caller?.request,
      meta,
    });
    let outcome: ChangeOutcome<T>;
    try {
      outcome = await change();
    } catch (error) {
      const message = isError(error) ? error.message : String(error);
      await event.fail({
        error: isError(error) ? error : new Error(message),
        meta: { outcome: outcomeOf(error) },
      });
      await this.add({
        ...meta,
        outcome: outcomeOf(error),
        message,
      });
      throw error;
    }
    const subjectId = outcome.subjectId ?? what.subjectId;
    await event.success({
      meta: { outcome: 'succeeded', subjectId, message: outcome.message },
    });
    await this.add({
      ...meta,
      subjectId,
      outcome: 'succeeded',
      message: outcome.message,
    });
    return outcome.result;
  }

  list(
    modelRef: string,
    page: { limit: number; offset: number },
  ): Promise<{ items: ModelActivity[]; totalCount: number }> {
    return this.options.store.list({ modelRef, ...page });
  }

  /** The activity entry; a store failure is logged, never the change's. */
  private async add(entry: Parameters<ActivityStore['add']>[0]) {
    try {
      await this.options.store.add(entry);
    } catch (error) {
      this.options.logger.error('could not record activity', {
        modelRef: entry.modelRef,
        action: entry.action,
        error: String(error),
      });
    }
  }
}
