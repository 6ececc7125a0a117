import { HttpAuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
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
import express from 'express';
import Router from 'express-promise-router';
import { randomUUID } from 'node:crypto';
import { ModelAccess } from './access/ModelAccess';
import { ModelChanges } from './activity/ModelChanges';
import { ArtifactRoutes } from './artifacts/ArtifactRoutes';
import { page } from './builds/routes';
import { InvocationRoutes } from './gateway/InvocationRoutes';
import { scanJson } from './gateway/invocationLimits';
import {
  assertPathParameter,
  bodyTimeout,
  rejectDotSegments,
  requireJsonBodies,
} from './http/requestGuards';
import { createOpenApiRouter, spec } from './schema/openapi/generated';
import { validateRequests } from './schema/requestValidation';
import { ModelCatalog } from './services/ModelCatalog';
import { RouteContext, Subsystem } from './subsystems/types';

export interface RouterOptions {
  httpAuth: HttpAuthService;
  access: ModelAccess;
  changes: ModelChanges;
  models: ModelCatalog;
  /** Model invocations; the data plane serves them too, ahead of this router. */
  invocations: InvocationRoutes;
  /** Artifacts for runtimes on other hosts, behind scoped tokens. */
  artifacts?: ArtifactRoutes;
  /** The parts of the platform, each adding its routes. */
  subsystems: Pick<Subsystem, 'streamRoutes' | 'routes'>[];
  /** Bounds of request bodies; defaults as in `mlPlatform.gateway`. */
  requestLimits?: { bodyTimeoutMs: number; maxJsonDepth: number };
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
 * The HTTP layer: the request guards, the invocation routes, then the
 * routes of the OpenAPI document (src/schema/openapi.yaml) on the router
 * generated from it, validated against it: the models' own here, the rest
 * from each subsystem. Handlers parse, authorize, call a service, answer.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const {
    httpAuth,
    access,
    changes,
    models,
    invocations,
    artifacts,
    subsystems,
  } = options;
  const router = Router();
  const artifactRoutes = () => {
    if (!artifacts) throw new NotFoundError('Artifacts are not served here');
    return artifacts;
  };
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

  const ctx: RouteContext = {
    httpAuth,
    limits,
    validation: validateRequests(),
    callerOf: async (req, res) => ({
      credentials: await httpAuth.credentials(req),
      request: req,
      requestId: res.locals.requestId,
    }),
  };

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

  // Runtimes on other hosts, with a token scoped to one artifact (the
  // plugin lets these paths past Backstage's credentials barrier). Uploads
  // stream, so they come before the JSON parser.
  router.get('/artifacts/:digest', (req, res) =>
    artifactRoutes().serveDownload(req, res),
  );
  router.post(
    '/artifacts',
    bodyTimeout(limits.bodyTimeoutMs, 'idle'),
    (req, res) => artifactRoutes().serveUpload(req, res),
  );

  // Streamed bodies come before the JSON parser too.
  for (const subsystem of subsystems) subsystem.streamRoutes?.(router, ctx);

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
    middleware: [ctx.validation],
    // Validated ahead by `ctx.validation`, whose answers name the field.
    validatorOptions: {
      validateRequests: false,
      validateSecurity: false,
      validateApiSpec: false,
    },
  });

  api.get('/models', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await models.listModels(credentials) });
  });

  api.get('/models/:namespace/:name', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await models.getModel(req.params, credentials));
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

  for (const subsystem of subsystems) subsystem.routes?.(api, ctx);

  router.use(api);
  return router;
}
