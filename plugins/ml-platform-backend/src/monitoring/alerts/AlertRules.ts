import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  AlertHistoryPage,
  ModelAlert,
  ModelAlertRule,
  ModelAlerts,
  mlPlatformAlertUpdatePermission,
} from '@internal/plugin-ml-platform-common';
import { principalRef } from '../../access/ModelAccess';
import { Caller, ModelChanges } from '../../activity/ModelChanges';
import { AlertStore } from '../../database/alerts/AlertStore';
import { parseInput } from '../../http/parseInput';
import { ModelCatalog } from '../../services/ModelCatalog';
import { ModelManifests } from '../ModelManifests';
import {
  MAX_SILENCE_MS,
  historyQuery,
  putAlertsBody,
  silenceMs,
  silenceBody,
} from './alertRequests';

type ModelRef = { namespace: string; name: string };

const iso = (ms: number | undefined) =>
  ms === undefined ? null : new Date(ms).toISOString();

/**
 * A model's alert rules: the manifest's (from its latest succeeded build)
 * and those set through the API, an API rule replacing the manifest's of
 * the same name; with their states, history and silences.
 */
export class AlertRules {
  private readonly clock: () => number;

  constructor(
    private readonly options: {
      store: AlertStore;
      manifests: ModelManifests;
      models: ModelCatalog;
      changes: ModelChanges;
      evaluationIntervalMs: number;
      clock?: () => number;
    },
  ) {
    this.clock = options.clock ?? (() => Date.now());
  }

  /** Every rule of a model, manifest rules first, as the evaluator runs them. */
  async rulesOf(modelRef: string): Promise<ModelAlertRule[]> {
    const [manifest, own] = await Promise.all([
      this.options.manifests.latest(modelRef),
      this.options.store.listRules(modelRef),
    ]);
    const fromManifest = manifest?.spec.monitoring?.alerts ?? [];
    const ownNames = new Set(own.map(r => r.name));
    const manifestNames = new Set(fromManifest.map(r => r.name));
    return [
      ...fromManifest
        .filter(r => !ownNames.has(r.name))
        .map(r => ({ ...r, source: 'manifest' as const })),
      ...own.map(r => ({
        ...r,
        source: 'api' as const,
        ...(manifestNames.has(r.name) ? { overridesManifest: true } : {}),
      })),
    ];
  }

  /** Models that may have rules: every registered model. */
  listModelRefs(): Promise<string[]> {
    return this.options.manifests.listModelRefs();
  }

  async list(
    ref: ModelRef,
    credentials: BackstageCredentials,
  ): Promise<ModelAlerts> {
    const modelRef = await this.visibleRef(ref, credentials);
    return this.alertsOf(modelRef);
  }

  async put(
    ref: ModelRef,
    body: unknown,
    caller: Caller,
  ): Promise<ModelAlerts> {
    const modelRef = stringifyEntityRef({ kind: 'component', ...ref });
    const { rules } = parseInput(putAlertsBody, body, 'body');
    await this.options.models.assertVisible(modelRef, caller.credentials);
    return this.options.changes.apply(
      caller,
      {
        action: 'alert.update',
        permission: mlPlatformAlertUpdatePermission,
        modelRef,
      },
      async () => {
        const manifest = await this.options.manifests.latest(modelRef);
        await this.options.store.replaceRules(modelRef, rules, {
          updatedBy: principalRef(caller.credentials),
          keep: (manifest?.spec.monitoring?.alerts ?? []).map(r => r.name),
          now: this.clock(),
        });
        return {
          result: await this.alertsOf(modelRef),
          message: `Set ${rules.length} alert rule${
            rules.length === 1 ? '' : 's'
          }: ${rules.map(r => r.name).join(', ') || 'none'}`,
        };
      },
    );
  }

  async history(
    ref: ModelRef,
    query: unknown,
    credentials: BackstageCredentials,
  ): Promise<AlertHistoryPage> {
    const q = parseInput(historyQuery, query, 'query');
    const modelRef = await this.visibleRef(ref, credentials);
    return this.options.store.listHistory({
      modelRef,
      rule: q.rule,
      limit: q.limit ?? 50,
      offset: q.offset ?? 0,
    });
  }

  /** Holds back a rule's notifications for a while (undefined body: lifts it). */
  async silence(
    ref: ModelRef,
    rule: string,
    body: unknown | undefined,
    caller: Caller,
  ): Promise<ModelAlert> {
    const modelRef = stringifyEntityRef({ kind: 'component', ...ref });
    const duration =
      body === undefined
        ? undefined
        : parseInput(silenceBody, body, 'body').duration;
    const ms = duration === undefined ? undefined : silenceMs(duration);
    if (ms !== undefined && (ms <= 0 || ms > MAX_SILENCE_MS)) {
      throw new InputError('body.duration: expected a duration from 1m to 30d');
    }
    await this.options.models.assertVisible(modelRef, caller.credentials);
    return this.options.changes.apply(
      caller,
      {
        action: 'alert.update',
        permission: mlPlatformAlertUpdatePermission,
        modelRef,
      },
      async () => {
        if (!(await this.rulesOf(modelRef)).some(r => r.name === rule)) {
          throw new NotFoundError(`No alert rule ${rule} on ${modelRef}`);
        }
        const until = ms === undefined ? undefined : this.clock() + ms;
        await this.options.store.setSilence(
          modelRef,
          rule,
          until,
          ms === undefined ? undefined : principalRef(caller.credentials),
        );
        const alert = (await this.alertsOf(modelRef)).items.find(
          a => a.name === rule,
        )!;
        return {
          result: alert,
          message:
            until === undefined
              ? `Lifted the silence of alert ${rule}`
              : `Silenced alert ${rule} until ${new Date(until).toISOString()}`,
        };
      },
    );
  }

  private async visibleRef(ref: ModelRef, credentials: BackstageCredentials) {
    const modelRef = stringifyEntityRef({ kind: 'component', ...ref });
    await this.options.models.assertVisible(modelRef, credentials);
    return modelRef;
  }

  private async alertsOf(modelRef: string): Promise<ModelAlerts> {
    const [rules, states] = await Promise.all([
      this.rulesOf(modelRef),
      this.options.store.listStates(modelRef),
    ]);
    const byRule = new Map(states.map(s => [s.rule, s]));
    const now = this.clock();
    return {
      evaluationIntervalSeconds: this.options.evaluationIntervalMs / 1000,
      items: rules.map(rule => {
        const s = byRule.get(rule.name);
        const silenced =
          s?.silencedUntil !== undefined && s.silencedUntil > now
            ? s.silencedUntil
            : undefined;
        return {
          ...rule,
          state: s?.state ?? 'ok',
          since: iso(s?.since),
          value: s?.value ?? null,
          lastEvaluatedAt: iso(s?.evaluatedAt),
          silencedUntil: iso(silenced),
        };
      }),
    };
  }
}
