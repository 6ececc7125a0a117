import { HttpAuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  ModelPermissions,
  mlPlatformAlertUpdatePermission,
  mlPlatformBuildCancelPermission,
  mlPlatformBuildCreatePermission,
  mlPlatformDeploymentCreatePermission,
  mlPlatformDeploymentDeletePermission,
  mlPlatformDeploymentUpdatePermission,
  mlPlatformExecutionCancelPermission,
  mlPlatformExecutionCreatePermission,
  mlPlatformModelInvokePermission,
  mlPlatformModelReadPermission,
  mlPlatformModelRegisterPermission,
} from '@internal/plugin-ml-platform-common';
import { RuntimeLogLine } from '@internal/plugin-ml-platform-node';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { ModelAccess } from './access/ModelAccess';
import { Caller, ModelChanges } from './activity/ModelChanges';
import { ExecutionService } from './batch/ExecutionService';
import { DeploymentService } from './deployments/DeploymentService';
import { InvocationRoutes } from './gateway/InvocationRoutes';
import express from 'express';
import Router from 'express-promise-router';
import { BuildService } from './builds/BuildService';
import { streamBuildLog } from './builds/streamBuildLog';
import { ModelCatalog } from './services/ModelCatalog';
import { MonitoringRoutes } from './monitoring/createMonitoring';
import { metricsQuery, trafficQuery } from './monitoring/metricsQuery';
import { OpenApiDocument } from './schema/openApiDocument';
import { PredictionEventService } from './events/PredictionEventService';
import { addPredictionEventRoutes } from './events/routes';
import { SubscriptionService } from './subscriptions/SubscriptionService';
import { addSubscriptionRoutes } from './subscriptions/routes';
import { LogSearch } from './modelLogs/LogSearch';
import { addLogRoutes } from './modelLogs/routes';
import {
  buildLogsQuery,
  createBuildBody,
  createDeploymentBody,
  createExecutionBody,
  deploymentLogsQuery,
  listActivityQuery,
  listChunksQuery,
  uploadQuery,
  updateDeploymentBody,
  listBuildsQuery,
  registerModelBody,
} from './schema/requests';
import { parseRequest } from './validation';
import { scanJson } from './gateway/invocationLimits';
import {
  assertPathParameter,
  bodyTimeout,
  rejectDotSegments,
  requireJsonBodies,
} from './http/requestGuards';

export interface RouterOptions {
  httpAuth: HttpAuthService;
  access: ModelAccess;
  changes: ModelChanges;
  models: ModelCatalog;
  builds: BuildService;
  deployments: DeploymentService;
  executions: ExecutionService;
  /** Model invocations; the data plane serves them too, ahead of this router. */
  invocations: InvocationRoutes;
  monitoring: MonitoringRoutes;
  /** `GET models/{ns}/{name}/events` and its export. */
  predictionEvents: PredictionEventService;
  /** Event subscriptions (real-time triggers) and dead letters. */
  subscriptions: SubscriptionService;
  /** `GET models/{ns}/{name}/logs`. */
  logs: LogSearch;
  openApi: OpenApiDocument;
  /** Bounds of request bodies; defaults as in `mlPlatform.gateway`. */
  requestLimits?: { bodyTimeoutMs: number; maxJsonDepth: number };
}

const RESULT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
};

function formatLogLine(l: RuntimeLogLine) {
  return `${l.time} [${l.replica ?? l.stream}] ${l.line}`;
}

/** What `GET models/{ns}/{name}/permissions` answers, key by key. */
const MODEL_PERMISSIONS = {
  build: mlPlatformBuildCreatePermission,
  deploy: mlPlatformDeploymentCreatePermission,
  execute: mlPlatformExecutionCreatePermission,
  register: mlPlatformModelRegisterPermission,
  cancelBuild: mlPlatformBuildCancelPermission,
  updateDeployment: mlPlatformDeploymentUpdatePermission,
  deleteDeployment: mlPlatformDeploymentDeletePermission,
  cancelExecution: mlPlatformExecutionCancelPermission,
  updateAlerts: mlPlatformAlertUpdatePermission,
  invoke: mlPlatformModelInvokePermission,
  read: mlPlatformModelReadPermission,
};

/** A request id from a proxy in front (`X-Request-Id`), or a new one. */
function requestIdOf(req: express.Request): string {
  const given = req.get('x-request-id');
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * The HTTP layer: parse, authorize, call a service, answer. Every route is in
 * src/schema/openapi.yaml (a test keeps them in step).
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const {
    httpAuth,
    access,
    changes,
    models,
    builds,
    deployments,
    executions,
    invocations,
    monitoring,
    openApi,
  } = options;
  const router = Router();
  const limits = options.requestLimits ?? {
    bodyTimeoutMs: 30_000,
    maxJsonDepth: 32,
  };

  // Bad paths are refused before any route, any catalog call.
  router.use(rejectDotSegments());
  for (const param of ['namespace', 'name', 'id']) {
    router.param(param, (_req, _res, next, value) => {
      assertPathParameter(param, value);
      next();
    });
  }

  /** The caller of a change, with the request the audit event describes. */
  const callerOf = async (
    req: express.Request,
    res: express.Response,
  ): Promise<Caller> => ({
    credentials: await httpAuth.credentials(req),
    request: req,
    requestId: res.locals.requestId,
  });

  // Invocations read their own body, so they come before the JSON parser.
  router.post('/v2/models/:name/infer', (req, res) =>
    invocations.serve({ protocol: 'v2', name: req.params.name }, req, res),
  );
  router.post('/models/:namespace/:name/predict', (req, res) =>
    invocations.serve(
      {
        protocol: 'records',
        namespace: req.params.namespace,
        name: req.params.name,
      },
      req,
      res,
    ),
  );

  // Every other answer carries the request's id, as its audit event does.
  router.use((req, res, next) => {
    res.locals.requestId = requestIdOf(req);
    res.setHeader('X-Request-Id', res.locals.requestId);
    next();
  });

  // Uploads stream to disk, so they come before the JSON parser too; they
  // may take long, but not stall.
  router.post(
    '/models/:namespace/:name/uploads',
    bodyTimeout(limits.bodyTimeoutMs, 'idle'),
    async (req, res) => {
      const credentials = await httpAuth.credentials(req);
      const { filename } = parseRequest(uploadQuery, req.query, 'query');
      const upload = await executions.upload(
        { namespace: req.params.namespace, name: req.params.name },
        filename,
        req,
        credentials,
      );
      res.status(201).json(upload);
    },
  );

  router.use(
    requireJsonBodies(),
    bodyTimeout(limits.bodyTimeoutMs, 'total'),
    express.json({
      limit: '1mb',
      verify: (_req, _res, buf) => {
        try {
          scanJson(buf, limits.maxJsonDepth);
        } catch (error) {
          // body-parser answers 403 unless the error says otherwise.
          throw Object.assign(error as Error, { status: 400 });
        }
      },
    }),
  );

  router.get('/openapi.json', async (_req, res) => {
    res.json(openApi.document);
  });

  // Scrapes send a Backstage token (e.g. a static externalAccess one), or
  // none when mlPlatform.monitoring.scrape.allowUnauthenticated is set.
  const scrapeAuth = async (req: express.Request) => {
    if (!monitoring.allowUnauthenticatedScrape) {
      await httpAuth.credentials(req, { allow: ['user', 'service'] });
    }
  };

  router.get('/metrics', async (req, res) => {
    await scrapeAuth(req);
    const { exposition } = monitoring;
    const text = await exposition.metrics();
    res.setHeader('Content-Type', exposition.contentType);
    res.end(text);
  });

  router.get('/runtime/scrape-targets', async (req, res) => {
    await scrapeAuth(req);
    res.json(await monitoring.scrapeTargets());
  });

  router.get('/models/traffic', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(trafficQuery, req.query, 'query');
    res.json({ items: await monitoring.metrics.traffic(query, credentials) });
  });

  router.get('/models', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await models.listModels(credentials) });
  });

  router.get('/models/:namespace/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await models.getModel(req.params, credentials));
  });

  router.post('/models/:namespace/:name/register', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseRequest(registerModelBody, req.body, 'body');
    await builds.checkSource(body);
    res.json(await models.register(req.params, body, caller));
  });

  router.get('/models/:namespace/:name/metrics', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(metricsQuery, req.query, 'query');
    res.json(
      await monitoring.metrics.modelMetrics(req.params, query, credentials),
    );
  });

  addPredictionEventRoutes(router, {
    httpAuth,
    events: options.predictionEvents,
  });
  addSubscriptionRoutes(router, {
    httpAuth,
    callerOf,
    subscriptions: options.subscriptions,
  });
  addLogRoutes(router, { httpAuth, logs: options.logs });

  router.get('/models/:namespace/:name/permissions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const modelRef = stringifyEntityRef(
      await models.getEntity(req.params, credentials),
    );
    const keys = Object.keys(MODEL_PERMISSIONS) as (keyof ModelPermissions)[];
    const decisions = await access.decide(
      credentials,
      keys.map(key => MODEL_PERMISSIONS[key]),
      modelRef,
    );
    res.json(Object.fromEntries(keys.map((key, i) => [key, decisions[i]])));
  });

  router.get('/models/:namespace/:name/activity', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const page = parseRequest(listActivityQuery, req.query, 'query');
    const modelRef = stringifyEntityRef(
      await models.getEntity(req.params, credentials),
    );
    res.json(await changes.list(modelRef, page));
  });

  router.post('/models/:namespace/:name/builds', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseRequest(createBuildBody, req.body, 'body');
    const { build, created } = await builds.requestBuild({
      ref: req.params,
      ...body,
      trigger: 'api',
      caller,
    });
    res.status(created ? 202 : 200).json(build);
  });

  router.get('/models/:namespace/:name/builds', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const page = parseRequest(listBuildsQuery, req.query, 'query');
    res.json(await builds.listBuilds(req.params, page, credentials));
  });

  router.get('/builds/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await builds.getBuild(req.params.id, credentials));
  });

  router.get('/builds/:id/logs', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(buildLogsQuery, req.query, 'query');
    await builds.getBuild(req.params.id, credentials);
    await streamBuildLog({
      builds,
      buildId: req.params.id,
      follow: query.follow === 'true',
      after: query.after,
      format: query.format,
      req,
      res,
    });
  });

  router.post('/builds/:id/cancel', async (req, res) => {
    const caller = await callerOf(req, res);
    res.status(202).json(await builds.cancel(req.params.id, caller));
  });

  router.post('/models/:namespace/:name/deployments', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseRequest(createDeploymentBody, req.body, 'body');
    res.status(201).json(await deployments.create(req.params, body, caller));
  });

  router.get('/models/:namespace/:name/deployments', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await deployments.list(req.params, credentials) });
  });

  router.get('/deployments/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await deployments.get(req.params.id, credentials));
  });

  router.patch('/deployments/:id', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseRequest(updateDeploymentBody, req.body, 'body');
    res.json(await deployments.update(req.params.id, body, caller));
  });

  router.delete('/deployments/:id', async (req, res) => {
    const caller = await callerOf(req, res);
    await deployments.remove(req.params.id, caller);
    res.status(204).end();
  });

  router.get('/deployments/:id/logs', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parseRequest(deploymentLogsQuery, req.query, 'query');
    const lines = await deployments.readLogs(
      req.params.id,
      query.after !== undefined
        ? { afterSeq: query.after }
        : { tail: query.tail },
      credentials,
    );
    if (query.format === 'json') {
      res.json({
        items: lines,
        lastSeq: lines.at(-1)?.seq ?? query.after ?? 0,
      });
      return;
    }
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (lines.length) res.write(`${lines.map(formatLogLine).join('\n')}\n`);
    if (query.follow !== 'true') {
      res.end();
      return;
    }
    res.flushHeaders();
    let lastSeq = lines.at(-1)?.seq ?? 0;
    const unsubscribe = deployments.onLog(req.params.id, line => {
      if (line.seq <= lastSeq) return;
      lastSeq = line.seq;
      res.write(`${formatLogLine(line)}\n`);
    });
    req.on('close', unsubscribe);
  });

  router.post('/models/:namespace/:name/executions', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseRequest(createExecutionBody, req.body, 'body');
    res.status(202).json(await executions.create(req.params, body, caller));
  });

  router.get('/models/:namespace/:name/executions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await executions.list(req.params, credentials) });
  });

  router.get('/executions/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await executions.get(req.params.id, credentials));
  });

  router.get('/executions/:id/chunks', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { status } = parseRequest(listChunksQuery, req.query, 'query');
    res.json({
      items: await executions.chunks(req.params.id, status, credentials),
    });
  });

  router.post('/executions/:id/cancel', async (req, res) => {
    const caller = await callerOf(req, res);
    res.status(202).json(await executions.cancel(req.params.id, caller));
  });

  router.get('/executions/:id/result', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const result = await executions.result(req.params.id, credentials);
    res.setHeader('Content-Type', RESULT_TYPES[result.format]);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${result.filename}"`,
    );
    await pipeline(result.stream, res);
  });

  return router;
}
