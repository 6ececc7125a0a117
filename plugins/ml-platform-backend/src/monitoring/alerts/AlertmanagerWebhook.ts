import { LoggerService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { AuthenticationError, NotFoundError } from '@backstage/errors';
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AlertStore } from '../../database/alerts/AlertStore';
import { AlertNotifier } from './AlertNotifier';
import { AlertRules } from './AlertRules';
import { parseInput } from '../../http/parseInput';
import { RULE_LABEL } from './prometheusRules';

/** Alertmanager's webhook payload (version 4), the parts used here. */
export const alertmanagerPayload = z.object({
  version: z.string().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved'], {
          error: 'expected firing or resolved',
        }),
        labels: z.record(z.string(), z.string().max(1024)),
        annotations: z.record(z.string(), z.string().max(8192)).optional(),
        startsAt: z.iso.datetime({
          offset: true,
          error: 'expected an RFC 3339 time',
        }),
        endsAt: z.string().optional(),
      }),
      { error: 'expected a list of alerts' },
    )
    .max(1000, { error: 'expected at most 1000 alerts' }),
});

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * `POST alerts/alertmanager`: an Alertmanager's webhook receiver. Alerts
 * of rules the platform exported (labels `namespace`, `model` and
 * `ml_platform_rule` or `alertname`) become history entries and owner
 * notifications, as the embedded evaluator's do; others are counted and
 * ignored. Authenticated by `mlPlatform.monitoring.alertmanager.token`.
 */
export class AlertmanagerWebhook {
  constructor(
    private readonly options: {
      token?: string;
      rules: AlertRules;
      store: AlertStore;
      notifier: AlertNotifier;
      logger: LoggerService;
    },
  ) {}

  /** Checks `Authorization: Bearer <token>` in constant time. */
  authenticate(authorization: string | undefined): void {
    const { token } = this.options;
    if (!token) {
      throw new NotFoundError(
        'The Alertmanager webhook is off: set mlPlatform.monitoring.alertmanager.token',
      );
    }
    const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (!given || !timingSafeEqual(digest(given), digest(token))) {
      throw new AuthenticationError(
        'Expected the webhook token as a bearer token',
      );
    }
  }

  async receive(body: unknown): Promise<{ accepted: number; ignored: number }> {
    const payload = parseInput(alertmanagerPayload, body, 'body');
    let accepted = 0;
    let ignored = 0;
    for (const alert of payload.alerts) {
      const { namespace, model } = alert.labels;
      const ruleName = alert.labels[RULE_LABEL] ?? alert.labels.alertname;
      if (!namespace || !model || !ruleName) {
        ignored++;
        continue;
      }
      const modelRef = stringifyEntityRef({
        kind: 'component',
        namespace,
        name: model,
      });
      const rule = (await this.options.rules.rulesOf(modelRef)).find(
        r => r.name === ruleName,
      );
      if (!rule) {
        ignored++;
        continue;
      }
      const startedAt = Date.parse(alert.startsAt);
      const ended = alert.endsAt ? Date.parse(alert.endsAt) : NaN;
      const at =
        alert.status === 'resolved' && Number.isFinite(ended)
          ? ended
          : startedAt;
      const states = await this.options.store.listStates(modelRef);
      const silencedUntil = states.find(
        s => s.rule === rule.name,
      )?.silencedUntil;
      const silenced =
        silencedUntil !== undefined && silencedUntil > Date.now();
      const entry = {
        modelRef,
        rule: rule.name,
        state: alert.status,
        value: null,
        threshold: rule.threshold,
        at,
        source: 'alertmanager' as const,
        notified: !silenced,
        silenced,
      };
      // Alertmanager repeats a notification until it resolves: once each.
      if (!(await this.options.store.addHistoryOnce(entry))) continue;
      accepted++;
      this.options.logger.info(`alert ${alert.status} (Alertmanager)`, {
        model: modelRef,
        rule: rule.name,
      });
      if (!silenced) {
        await this.options.notifier.notify({
          modelRef,
          rule,
          state: alert.status,
          startedAt,
          at,
          source: 'alertmanager',
        });
      }
    }
    return { accepted, ignored };
  }
}
