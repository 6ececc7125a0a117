import express from 'express';
import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { MetricsService } from './MetricsService';
import { metricsQuery, parseQuery, trafficQuery } from './metricsQuery';
import { PrometheusExposition } from './PrometheusExposition';
import { HttpSdTargetGroup } from './scrapeTargets';

/** What the monitoring routes answer from. */
export interface MonitoringRouteServices {
  /** `GET metrics` and `GET runtime/scrape-targets` skip credentials. */
  allowUnauthenticatedScrape: boolean;
  exposition: PrometheusExposition;
  metrics: MetricsService;
  scrapeTargets(): Promise<HttpSdTargetGroup[]>;
}

/** The paths a Prometheus scrapes, for the plugin's auth policy. */
export const SCRAPE_PATHS = ['/metrics', '/runtime/scrape-targets'];

/** Monitoring: the Prometheus scrape endpoints and model health. */
export function monitoringRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  services: MonitoringRouteServices,
) {
  const { exposition, metrics } = services;
  // Scrapes send a Backstage token (e.g. a static externalAccess one), or
  // none when mlPlatform.monitoring.scrape.allowUnauthenticated is set.
  const scrapeAuth = async (req: express.Request) => {
    if (!services.allowUnauthenticatedScrape) {
      await ctx.httpAuth.credentials(req, { allow: ['user', 'service'] });
    }
  };

  api.get('/metrics', async (req, res) => {
    await scrapeAuth(req);
    const text = await exposition.metrics();
    res.setHeader('Content-Type', exposition.contentType);
    res.end(text);
  });

  api.get('/runtime/scrape-targets', async (req, res) => {
    await scrapeAuth(req);
    res.json(await services.scrapeTargets());
  });

  api.get('/models/traffic', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    const query = parseQuery(trafficQuery, req.query);
    res.json({ items: await metrics.traffic(query, credentials) });
  });

  api.get('/models/:namespace/:name/metrics', async (req, res) => {
    const credentials = await ctx.httpAuth.credentials(req);
    const query = parseQuery(metricsQuery, req.query);
    res.json(await metrics.modelMetrics(req.params, query, credentials));
  });
}
