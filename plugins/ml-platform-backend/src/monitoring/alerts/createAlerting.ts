import {
  AuthService,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { NotificationService } from '@backstage/plugin-notifications-node';
import express from 'express';
import { Caller, ModelChanges } from '../../activity/ModelChanges';
import { AlertStore } from '../../database/alerts/AlertStore';
import { ModelCatalog } from '../../services/ModelCatalog';
import { ModelDashboards } from '../dashboards/ModelDashboards';
import { GrafanaClient } from '../grafana/GrafanaClient';
import { GrafanaPusher } from '../grafana/GrafanaPusher';
import { ManifestStores, ModelManifests } from '../ModelManifests';
import { MetricsSource } from '../query/MetricsSource';
import { AlertEvaluator } from './AlertEvaluator';
import { AlertmanagerWebhook } from './AlertmanagerWebhook';
import { AlertNotifier, monitoringTabPath } from './AlertNotifier';
import { AlertRules } from './AlertRules';
import { readAlertingConfig } from './alertingConfig';
import { prometheusRuleFile } from './prometheusRules';

/** A scheduled task of alerting, for `coreServices.scheduler`. */
export interface AlertingTask {
  id: string;
  frequency: { milliseconds: number };
  timeout: { minutes: number };
  initialDelay?: { seconds: number };
  fn: () => Promise<void>;
}

export interface AlertingOptions {
  config: Config;
  logger: LoggerService;
  auth: AuthService;
  catalog: CatalogService;
  notifications: NotificationService;
  models: ModelCatalog;
  changes: ModelChanges;
  store: AlertStore;
  manifestStores: ManifestStores;
  /** Where model health is read from: the embedded store or Prometheus. */
  source: MetricsSource;
  clock?: () => number;
}

/** Rule names in paths: what PUT accepts, plus what manifests may hold. */
const RULE_PARAM = /^[^/\p{Cc}]{1,100}$/u;

/**
 * Dashboards and alerting: the generated Grafana dashboards, the rules of
 * each model with their evaluator, history and silences, the Prometheus
 * rule export, the Alertmanager webhook and the Grafana push.
 */
export function createAlerting(options: AlertingOptions) {
  const settings = readAlertingConfig(options.config);
  const { logger, store } = options;
  const manifests = new ModelManifests(options.manifestStores);
  const rules = new AlertRules({
    store,
    manifests,
    models: options.models,
    changes: options.changes,
    evaluationIntervalMs: settings.evaluator.intervalMs,
    clock: options.clock,
  });
  const notifier = new AlertNotifier({
    auth: options.auth,
    catalog: options.catalog,
    notifications: options.notifications,
    logger,
  });
  const evaluator = new AlertEvaluator({
    rules,
    store,
    source: options.source,
    notifier,
    logger,
    clock: options.clock,
  });
  const dashboards = new ModelDashboards({
    manifests,
    models: options.models,
    grafanaUrl: settings.grafana?.url,
  });
  const webhook = new AlertmanagerWebhook({
    token: settings.alertmanagerToken,
    rules,
    store,
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

  const tasks: AlertingTask[] = [];
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

  const modelOf = (req: express.Request) => ({
    namespace: req.params.namespace,
    name: req.params.name,
  });
  const ruleOf = (req: express.Request) => {
    const rule = req.params.rule;
    if (!RULE_PARAM.test(rule)) {
      throw new InputError('path.rule: expected an alert rule name');
    }
    return rule;
  };

  /** The routes, on an express router after the JSON parser. */
  const routes = (
    router: express.Router,
    ctx: {
      httpAuth: HttpAuthService;
      callerOf(req: express.Request, res: express.Response): Promise<Caller>;
    },
  ) => {
    // Alertmanager holds a webhook token, not Backstage credentials.
    router.post('/alerts/alertmanager', async (req, res) => {
      webhook.authenticate(req.get('authorization'));
      res.json(await webhook.receive(req.body));
    });

    router.get('/models/:namespace/:name/dashboard', async (req, res) => {
      const credentials = await ctx.httpAuth.credentials(req);
      const ref = modelOf(req);
      const dashboard = await dashboards.get(ref, credentials);
      res.setHeader(
        'Content-Disposition',
        `attachment; filename="${dashboard.uid}.json"`,
      );
      const link = dashboards.grafanaLink(ref);
      if (link) res.setHeader('Link', `<${link}>; rel="alternate"`);
      res.json(dashboard);
    });

    router.get('/models/:namespace/:name/alerts', async (req, res) => {
      const credentials = await ctx.httpAuth.credentials(req);
      res.json(await rules.list(modelOf(req), credentials));
    });

    router.put('/models/:namespace/:name/alerts', async (req, res) => {
      const caller = await ctx.callerOf(req, res);
      res.json(await rules.put(modelOf(req), req.body, caller));
    });

    router.get('/models/:namespace/:name/alerts/history', async (req, res) => {
      const credentials = await ctx.httpAuth.credentials(req);
      res.json(await rules.history(modelOf(req), req.query, credentials));
    });

    router.get(
      '/models/:namespace/:name/alerts/prometheus-rules',
      async (req, res) => {
        const credentials = await ctx.httpAuth.credentials(req);
        const ref = modelOf(req);
        await rules.list(ref, credentials);
        const modelRef = `component:${ref.namespace}/${ref.name}`;
        const link =
          settings.appBaseUrl &&
          `${settings.appBaseUrl.replace(/\/+$/, '')}${monitoringTabPath(
            modelRef,
          )}`;
        res.setHeader('Content-Type', 'application/yaml; charset=utf-8');
        res.send(
          prometheusRuleFile(ref, await rules.rulesOf(modelRef), {
            monitoringUrl: link || undefined,
          }),
        );
      },
    );

    router.post(
      '/models/:namespace/:name/alerts/:rule/silence',
      async (req, res) => {
        const caller = await ctx.callerOf(req, res);
        res.json(
          await rules.silence(
            modelOf(req),
            ruleOf(req),
            req.body ?? {},
            caller,
          ),
        );
      },
    );

    router.delete(
      '/models/:namespace/:name/alerts/:rule/silence',
      async (req, res) => {
        const caller = await ctx.callerOf(req, res);
        res.json(
          await rules.silence(modelOf(req), ruleOf(req), undefined, caller),
        );
      },
    );
  };

  return {
    rules,
    evaluator,
    dashboards,
    webhook,
    pusher,
    tasks,
    routes,
    /** The webhook is reached without Backstage credentials. */
    unauthenticatedPaths: ['/alerts/alertmanager'],
  };
}

export type Alerting = ReturnType<typeof createAlerting>;
