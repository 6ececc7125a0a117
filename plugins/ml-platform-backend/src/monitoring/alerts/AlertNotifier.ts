import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { NotificationService } from '@backstage/plugin-notifications-node';
import { ManifestAlertRule } from '@internal/plugin-ml-platform-common';
import { ownerRef } from '../../services/ModelCatalog';

/** A rule that started firing or resolved, as the owner is told. */
export interface AlertChange {
  modelRef: string;
  rule: Pick<ManifestAlertRule, 'name' | 'metric' | 'op' | 'threshold'> &
    Partial<Pick<ManifestAlertRule, 'severity'>>;
  state: 'firing' | 'resolved';
  value?: number;
  /** Epoch milliseconds: when the condition started being true, and now. */
  startedAt: number;
  at: number;
  /** Who saw it, for the text: the evaluator or an Alertmanager. */
  source: 'evaluator' | 'alertmanager';
}

/** Shown around an alert in the Monitoring tab's link. */
const CONTEXT_MS = 30 * 60_000;

/** The Monitoring tab of a model in the portal, with query parameters. */
export function monitoringTabPath(
  modelRef: string,
  params: Record<string, string> = {},
): string {
  const { namespace, name } = parseEntityRef(modelRef);
  const query = new URLSearchParams({ tab: 'monitoring', ...params });
  return `/catalog/${namespace}/component/${name}/ml-platform?${query}`;
}

/** The Monitoring tab of a model at the time range around an alert. */
export function monitoringLink(change: AlertChange): string {
  return monitoringTabPath(change.modelRef, {
    from: new Date(change.startedAt - CONTEXT_MS).toISOString(),
    to: new Date(change.at + CONTEXT_MS / 6).toISOString(),
    alert: change.rule.name,
  });
}

/** Notification severity of a firing rule, by the rule's severity. */
const FIRING_SEVERITY = {
  critical: 'critical',
  warning: 'high',
  info: 'normal',
} as const;

const format = (value: number | undefined) =>
  value === undefined ? 'no data' : Number(value.toPrecision(4)).toString();

/**
 * Tells a model's owner (the entity's `spec.owner`) through the
 * notifications backend that an alert fired or resolved.
 */
export class AlertNotifier {
  constructor(
    private readonly options: {
      auth: AuthService;
      catalog: CatalogService;
      notifications: NotificationService;
      logger: LoggerService;
    },
  ) {}

  /** Whether the owner was notified; failures are logged, never thrown. */
  async notify(change: AlertChange): Promise<boolean> {
    const { auth, catalog, notifications, logger } = this.options;
    const { name } = parseEntityRef(change.modelRef);
    const { rule } = change;
    try {
      const entity = await catalog.getEntityByRef(change.modelRef, {
        credentials: await auth.getOwnServiceCredentials(),
      });
      const owner = entity && ownerRef(entity);
      if (!owner) {
        logger.warn('Alert not notified: the model has no owner', {
          model: change.modelRef,
          rule: rule.name,
        });
        return false;
      }
      const firing = change.state === 'firing';
      const condition = `${rule.metric} ${rule.op} ${rule.threshold}`;
      await notifications.send({
        recipients: { type: 'entity', entityRef: owner },
        payload: {
          title: firing
            ? `Alert ${rule.name} of ${name} is firing`
            : `Alert ${rule.name} of ${name} resolved`,
          description: firing
            ? `${condition}: the value is ${format(change.value)}${
                change.source === 'alertmanager' ? ' (from Alertmanager)' : ''
              }`
            : `${condition} no longer holds (value ${format(change.value)})`,
          link: monitoringLink(change),
          severity: firing
            ? FIRING_SEVERITY[rule.severity ?? 'warning']
            : 'low',
          topic: `ml-platform:${change.modelRef}`,
          // One notification per firing and per resolution.
          scope: `ml-platform-alert:${change.modelRef}:${rule.name}:${change.startedAt}:${change.state}`,
        },
      });
      return true;
    } catch (error) {
      logger.warn('Could not notify the owner about an alert', {
        model: change.modelRef,
        rule: rule.name,
        error: String(error),
      });
      return false;
    }
  }
}
