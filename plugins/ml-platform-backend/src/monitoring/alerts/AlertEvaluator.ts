import { LoggerService } from '@backstage/backend-plugin-api';
import {
  AlertState,
  ModelAlertRule,
} from '@internal/plugin-ml-platform-common';
import { AlertStateRecord, AlertStore } from '../../database/alerts/AlertStore';
import { MetricsSource } from '../query/MetricsSource';
import { compare, measureRules, ruleDurationMs } from './alertMetrics';
import { AlertNotifier } from './AlertNotifier';
import { AlertRules } from './AlertRules';

/** What one evaluation did to one rule. */
export interface RuleEvaluation {
  modelRef: string;
  rule: string;
  state: AlertState;
  value?: number;
  /** The state changed at this evaluation. */
  changed: boolean;
}

/** A rule's next state from the last one and whether its condition holds. */
export function nextState(
  previous: Pick<AlertStateRecord, 'state' | 'pendingSince'>,
  holds: boolean,
  forMs: number,
  now: number,
): { state: AlertState; pendingSince?: number } {
  if (holds) {
    const active = previous.state === 'pending' || previous.state === 'firing';
    const pendingSince = active ? previous.pendingSince ?? now : now;
    if (previous.state === 'firing' || now - pendingSince >= forMs) {
      return { state: 'firing', pendingSince };
    }
    return { state: 'pending', pendingSince };
  }
  if (previous.state === 'firing') return { state: 'resolved' };
  if (previous.state === 'pending') return { state: 'ok' };
  return { state: previous.state };
}

/**
 * The embedded evaluator: on each run (a scheduler task, every minute by
 * default) computes every rule of every model from the metrics source,
 * moves it through ok → pending → firing → resolved, records each change in
 * the history, and notifies the owner when a rule fires or resolves (not
 * while it is silenced).
 */
export class AlertEvaluator {
  private readonly clock: () => number;

  constructor(
    private readonly options: {
      rules: AlertRules;
      store: AlertStore;
      source: MetricsSource;
      notifier: AlertNotifier;
      logger: LoggerService;
      clock?: () => number;
    },
  ) {
    this.clock = options.clock ?? (() => Date.now());
  }

  async evaluateAll(): Promise<RuleEvaluation[]> {
    const results: RuleEvaluation[] = [];
    for (const modelRef of await this.options.rules.listModelRefs()) {
      try {
        results.push(...(await this.evaluateModel(modelRef)));
      } catch (error) {
        this.options.logger.warn('Alert evaluation failed', {
          model: modelRef,
          error: String(error),
        });
      }
    }
    return results;
  }

  async evaluateModel(modelRef: string): Promise<RuleEvaluation[]> {
    const { store, source, notifier } = this.options;
    const rules = await this.options.rules.rulesOf(modelRef);
    await store.deleteStatesExcept(
      modelRef,
      rules.map(r => r.name),
    );
    if (rules.length === 0) return [];
    const now = this.clock();
    const values = await measureRules(source, modelRef, rules, now);
    const states = new Map(
      (await store.listStates(modelRef)).map(s => [s.rule, s]),
    );
    const results: RuleEvaluation[] = [];
    for (const rule of rules) {
      const previous: AlertStateRecord = states.get(rule.name) ?? {
        modelRef,
        rule: rule.name,
        state: 'ok',
      };
      const value = values.get(rule.name);
      const holds =
        value !== undefined && compare(value, rule.op, rule.threshold);
      const next = nextState(previous, holds, ruleDurationMs(rule.for), now);
      const changed = next.state !== previous.state;
      const silenced =
        previous.silencedUntil !== undefined && previous.silencedUntil > now;
      let notified = false;
      if (changed && (next.state === 'firing' || next.state === 'resolved')) {
        if (!silenced) {
          notified = await notifier.notify({
            modelRef,
            rule,
            state: next.state,
            value,
            startedAt: next.pendingSince ?? previous.pendingSince ?? now,
            at: now,
            source: 'evaluator',
          });
        }
        this.log(modelRef, rule, next.state, value);
      }
      await store.saveState(
        {
          modelRef,
          rule: rule.name,
          state: next.state,
          since: changed ? now : previous.since,
          pendingSince: next.pendingSince,
          value,
          evaluatedAt: now,
        },
        changed
          ? {
              modelRef,
              rule: rule.name,
              state: next.state,
              value: value ?? null,
              threshold: rule.threshold,
              at: now,
              source: 'evaluator',
              notified,
              silenced,
            }
          : undefined,
      );
      results.push({
        modelRef,
        rule: rule.name,
        state: next.state,
        value,
        changed,
      });
    }
    return results;
  }

  private log(
    modelRef: string,
    rule: ModelAlertRule,
    state: AlertState,
    value: number | undefined,
  ) {
    this.options.logger.info(`alert ${state}`, {
      model: modelRef,
      rule: rule.name,
      metric: rule.metric,
      value,
      threshold: rule.threshold,
    });
  }
}
