import { InputError } from '@backstage/errors';
import { PlatformApiRouter, RouteContext } from '../../subsystems/types';
import { ModelDashboards } from '../dashboards/ModelDashboards';
import { AlertmanagerWebhook } from './AlertmanagerWebhook';
import { monitoringTabPath } from './AlertNotifier';
import { AlertRules } from './AlertRules';
import { prometheusRuleFile } from './prometheusRules';

/** Rule names in paths: what PUT accepts, plus what manifests may hold. */
const RULE_PARAM = /^[^/\p{Cc}]{1,100}$/u;

function ruleParam(rule: string) {
  if (!RULE_PARAM.test(rule)) {
    throw new InputError('path.rule: expected an alert rule name');
  }
  return rule;
}

/** Dashboards, alert rules, their history and silences, and the webhook. */
export function alertingRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  services: {
    rules: AlertRules;
    dashboards: ModelDashboards;
    webhook: AlertmanagerWebhook;
    appBaseUrl?: string;
    refOf(params: { namespace: string; name: string }): string;
  },
) {
  const { rules, dashboards, webhook } = services;
  const model = (params: { namespace: string; name: string }) => ({
    namespace: params.namespace,
    name: params.name,
  });

  // Alertmanager holds a webhook token, not Backstage credentials.
  api.post('/alerts/alertmanager', async (req, res) => {
    webhook.authenticate(req.get('authorization'));
    res.json(await webhook.receive(req.body));
  });

  api.get('/models/:namespace/:name/dashboard', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    const ref = model(req.params);
    const dashboard = await dashboards.get(ref, credentials);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${dashboard.uid}.json"`,
    );
    const link = dashboards.grafanaLink(ref);
    if (link) res.setHeader('Link', `<${link}>; rel="alternate"`);
    res.json({ ...dashboard });
  });

  api.get('/models/:namespace/:name/alerts', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json(await rules.list(model(req.params), credentials));
  });

  api.put('/models/:namespace/:name/alerts', async (req, res) => {
    const caller = await ctx.callerOf(req, res);
    res.json(await rules.put(model(req.params), req.body, caller));
  });

  api.get('/models/:namespace/:name/alerts/history', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    res.json(await rules.history(model(req.params), req.query, credentials));
  });

  api.get(
    '/models/:namespace/:name/alerts/prometheus-rules',
    async (req, res) => {
      const credentials = await ctx.httpAuth.credentials(req);
      const ref = model(req.params);
      await rules.list(ref, credentials);
      const modelRef = services.refOf(ref);
      const link =
        services.appBaseUrl &&
        `${services.appBaseUrl.replace(/\/+$/, '')}${monitoringTabPath(
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

  api.post(
    '/models/:namespace/:name/alerts/:rule/silence',
    async (req, res) => {
      const caller = await ctx.callerOf(req, res);
      res.json(
        await rules.silence(
          model(req.params),
          ruleParam(req.params.rule),
          req.body ?? {},
          caller,
        ),
      );
    },
  );

  api.delete(
    '/models/:namespace/:name/alerts/:rule/silence',
    async (req, res) => {
      const caller = await ctx.callerOf(req, res);
      res.json(
        await rules.silence(
          model(req.params),
          ruleParam(req.params.rule),
          undefined,
          caller,
        ),
      );
    },
  );
}
