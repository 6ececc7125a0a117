import { NotificationService } from '@backstage/plugin-notifications-node';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { PlatformCore } from '../../subsystems/core';
import { PlatformTask, Subsystem } from '../../subsystems/types';
import { ModelDashboards } from '../dashboards/ModelDashboards';
import { GrafanaClient } from '../grafana/GrafanaClient';
import { GrafanaPusher } from '../grafana/GrafanaPusher';
import { ModelManifests } from '../ModelManifests';
import { MetricsSource } from '../query/MetricsSource';
import { AlertEvaluator } from './AlertEvaluator';
import { AlertmanagerWebhook } from './AlertmanagerWebhook';
import { AlertNotifier } from './AlertNotifier';
import { AlertRules } from './AlertRules';
import { readAlertingConfig } from './alertingConfig';
import { alertingRoutes } from './routes';

/** Dashboards and alerting, as the plugin composes them. */
export interface AlertingSubsystem extends Subsystem {
  rules: AlertRules;
  evaluator: AlertEvaluator;
  dashboards: ModelDashboards;
  pusher?: GrafanaPusher;
  /** The Alertmanager webhook holds its own token, not Backstage credentials. */
  unauthenticatedPaths: string[];
}

/**
 * Dashboards and alerting: the generated Grafana dashboards, the rules of
 * each model with their evaluator (a scheduler task), history and
 * silences, the Prometheus rule export, the Alertmanager webhook and the
 * Grafana push (a scheduler task, when Grafana is configured).
 */
export function createAlertingSubsystem(
  core: PlatformCore,
  deps: {
    notifications: NotificationService;
    /** Model health, as the metrics route reads it. */
    source: MetricsSource;
    clock?: () => number;
  },
): AlertingSubsystem {
  const { config, logger, stores } = core;
  const settings = readAlertingConfig(config);
  const manifests = new ModelManifests({
    listModels: () => stores.models.listModels(),
    listBuilds: options => stores.builds.listBuilds(options),
    getBuildManifest: id => stores.builds.getBuildManifest(id),
  });
  const rules = new AlertRules({
    store: stores.alerts,
    manifests,
    models: core.models,
    changes: core.changes,
    evaluationIntervalMs: settings.evaluator.intervalMs,
    clock: deps.clock,
  });
  const notifier = new AlertNotifier({
    auth: core.auth,
    catalog: core.catalog,
    notifications: deps.notifications,
    logger,
  });
  const evaluator = new AlertEvaluator({
    rules,
    store: stores.alerts,
    source: deps.source,
    notifier,
    logger,
    clock: deps.clock,
  });
  const dashboards = new ModelDashboards({
    manifests,
    models: core.models,
    grafanaUrl: settings.grafana?.url,
  });
  const webhook = new AlertmanagerWebhook({
    token: settings.alertmanagerToken,
    rules,
    store: stores.alerts,
    notifier,
    logger,
  });
  const pusher =
    settings.grafana &&
    new GrafanaPusher({
      client: new GrafanaClient(settings.grafana),
      config: settings.grafana,
      dashboards,
      rules,
      logger,
    });

  const tasks: PlatformTask[] = [];
  if (settings.evaluator.enabled) {
    tasks.push({
      id: 'ml-platform-alert-evaluation',
      frequency: { milliseconds: settings.evaluator.intervalMs },
      timeout: { minutes: 5 },
      fn: async () => {
        await evaluator.evaluateAll();
      },
    });
  }
  if (pusher) {
    tasks.push({
      id: 'ml-platform-grafana-push',
      frequency: { milliseconds: settings.grafana!.pushIntervalMs },
      timeout: { minutes: 10 },
      initialDelay: { seconds: 10 },
      fn: async () => {
        const result = await pusher.pushAll();
        logger.info('Grafana push done', { ...result });
      },
    });
  }

  return {
    name: 'alerting',
    rules,
    evaluator,
    dashboards,
    pusher,
    unauthenticatedPaths: ['/alerts/alertmanager'],
    routes: (api, ctx) =>
      alertingRoutes(api, ctx, {
        rules,
        dashboards,
        webhook,
        appBaseUrl: settings.appBaseUrl,
        refOf: params => stringifyEntityRef({ kind: 'component', ...params }),
      }),
    tasks,
    onStartup: [],
    onShutdown: [],
  };
}
