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
import {
  UpdateDeployment,
  createOpenApiRouter,
  spec,
} from './schema/openapi/generated';
import { validateRequests } from './schema/requestValidation';
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

/** A page of a list: the query's bounds, defaults from the document. */
function page(query: { limit?: number; offset?: number }) {
  return { limit: query.limit ?? 20, offset: query.offset ?? 0 };
}

/** A request id from a proxy in front (`X-Request-Id`), or a new one. */
function requestIdOf(req: express.Request): string {
  const given = req.get('x-request-id');
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * The HTTP layer: parse, authorize, call a service, answer. The routes are
 * those of src/schema/openapi.yaml, typed by the router generated from it
 * (src/schema/openapi/generated) and validated against it.
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
  const validation = validateRequests();
  router.post(
    '/models/:namespace/:name/uploads',
    bodyTimeout(limits.bodyTimeoutMs, 'idle'),
    validation,
    async (req, res) => {
      const credentials = await httpAuth.credentials(req);
      const upload = await executions.upload(
        { namespace: req.params.namespace, name: req.params.name },
        String(req.query.filename),
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

  // The document, with the plugin's own base URL as its server.
  router.get('/openapi.json', async (req, res) => {
    res.json({ ...spec, servers: [{ url: req.baseUrl || '/' }] });
  });

  const api = await createOpenApiRouter({
    middleware: [validation],
    // Validated ahead by `validation`, whose answers name the field.
    validatorOptions: { validateRequests: false, validateSecurity: false },
  });

  api.get('/models', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await models.listModels(credentials) });
  });

  api.get('/models/:namespace/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await models.getModel(req.params, credentials));
  });

  api.post('/models/:namespace/:name/register', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = req.body ?? {};
    await builds.checkSource(body);
    res.json(await models.register(req.params, body, caller));
  });

  api.get('/models/:namespace/:name/permissions', async (req, res) => {
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
    const answer = {} as ModelPermissions;
    keys.forEach((key, i) => {
      answer[key] = decisions[i];
    });
    res.json(answer);
  });

  api.get('/models/:namespace/:name/activity', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const modelRef = stringifyEntityRef(
      await models.getEntity(req.params, credentials),
    );
    res.json(await changes.list(modelRef, page(req.query)));
  });

  api.post('/models/:namespace/:name/builds', async (req, res) => {
    const caller = await callerOf(req, res);
    const { build, created } = await builds.requestBuild({
      ref: req.params,
      ...req.body,
      trigger: 'api',
      caller,
    });
    res.status(created ? 202 : 200).json(build);
  });

  api.get('/models/:namespace/:name/builds', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await builds.listBuilds(req.params, page(req.query), credentials));
  });

  api.get('/builds/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await builds.getBuild(req.params.id, credentials));
  });

  api.get('/builds/:id/logs', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    await builds.getBuild(req.params.id, credentials);
    await streamBuildLog({
      builds,
      buildId: req.params.id,
      follow: req.query.follow === 'true',
      after: req.query.after,
      format: req.query.format ?? 'text',
      req,
      res,
    });
  });

  api.post('/builds/:id/cancel', async (req, res) => {
    const caller = await callerOf(req, res);
    res.status(202).json(await builds.cancel(req.params.id, caller));
  });

  api.post('/models/:namespace/:name/deployments', async (req, res) => {
    const caller = await callerOf(req, res);
    res
      .status(201)
      .json(await deployments.create(req.params, req.body, caller));
  });

  api.get('/models/:namespace/:name/deployments', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await deployments.list(req.params, credentials) });
  });

  api.get('/deployments/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await deployments.get(req.params.id, credentials));
  });

  // PATCH is not among the typed router's methods: typed by the EndpointMap.
  api.patch(
    '/deployments/:id',
    async (
      req: express.Request<
        UpdateDeployment['path'],
        UpdateDeployment['response'],
        UpdateDeployment['body']
      >,
      res: express.Response<UpdateDeployment['response']>,
    ) => {
      const caller = await callerOf(req, res);
      res.json(await deployments.update(req.params.id, req.body, caller));
    },
  );

  api.delete('/deployments/:id', async (req, res) => {
    const caller = await callerOf(req, res);
    await deployments.remove(req.params.id, caller);
    res.status(204).end();
  });

  api.get('/deployments/:id/logs', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { after, tail = 200, follow, format = 'text' } = req.query;
    const lines = await deployments.readLogs(
      req.params.id,
      after !== undefined ? { afterSeq: after } : { tail },
      credentials,
    );
    if (format === 'json') {
      res.json({
        items: lines,
        lastSeq: lines.at(-1)?.seq ?? after ?? 0,
      });
      return;
    }
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (lines.length) res.write(`${lines.map(formatLogLine).join('\n')}\n`);
    if (follow !== 'true') {
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

  api.post('/models/:namespace/:name/executions', async (req, res) => {
    const caller = await callerOf(req, res);
    res.status(202).json(await executions.create(req.params, req.body, caller));
  });

  api.get('/models/:namespace/:name/executions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await executions.list(req.params, credentials) });
  });

  api.get('/executions/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await executions.get(req.params.id, credentials));
  });

  api.get('/executions/:id/chunks', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({
      items: await executions.chunks(
        req.params.id,
        req.query.status,
        credentials,
      ),
    });
  });

  api.post('/executions/:id/cancel', async (req, res) => {
    const caller = await callerOf(req, res);
    res.status(202).json(await executions.cancel(req.params.id, caller));
  });

  api.get('/executions/:id/result', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const result = await executions.result(req.params.id, credentials);
    res.setHeader('Content-Type', RESULT_TYPES[result.format]);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${result.filename}"`,
    );
    await pipeline(result.stream, res);
  });

  router.use(api);
  return router;
}
