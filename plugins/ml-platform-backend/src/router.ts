import {
  BackstageCredentials,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { BasicPermission } from '@backstage/plugin-permission-common';
import { mlPlatformBuildCreatePermission } from '@internal/plugin-ml-platform-common';
import express from 'express';
import Router from 'express-promise-router';
import { BuildService } from './builds/BuildService';
import { streamBuildLog } from './builds/streamBuildLog';
import { ModelCatalog } from './services/ModelCatalog';
import { OpenApiDocument } from './schema/openApiDocument';
import {
  buildLogsQuery,
  createBuildBody,
  listBuildsQuery,
  registerModelBody,
} from './schema/requests';
import { parseRequest } from './validation';

export interface RouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  models: ModelCatalog;
  builds: BuildService;
  openApi: OpenApiDocument;
}

/** Who made a request, as recorded on what it created. */
function principalRef(credentials: BackstageCredentials): string | undefined {
  const p = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (p.type === 'user') return p.userEntityRef;
  if (p.type === 'service') return p.subject;
  return undefined;
}

/**
 * The HTTP layer: parse, authorize, call a service, answer. Every route is in
 * src/schema/openapi.yaml (a test keeps them in step).
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, permissions, models, builds, openApi } = options;
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

  const authorize = async (
    credentials: BackstageCredentials,
    permission: BasicPermission,
  ) => {
    const [decision] = await permissions.authorize([{ permission }], {
      credentials,
    });
    if (decision.result !== 'ALLOW') {
      throw new NotAllowedError(`Not allowed: ${permission.name}`);
    }
  };

  router.get('/openapi.json', async (_req, res) => {
    res.json(openApi.document);
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
    const credentials = await httpAuth.credentials(req);
    const body = parseRequest(registerModelBody, req.body, 'body');
    res.json(await models.register(req.params, body, credentials));
  });

  router.post('/models/:namespace/:name/builds', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parseRequest(createBuildBody, req.body, 'body');
    await authorize(credentials, mlPlatformBuildCreatePermission);
    const { build, created } = await builds.requestBuild({
      ref: req.params,
      ...body,
      trigger: 'api',
      requestedBy: principalRef(credentials),
      credentials,
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
    const credentials = await httpAuth.credentials(req);
    await authorize(credentials, mlPlatformBuildCreatePermission);
    res.status(202).json(await builds.cancel(req.params.id, credentials));
  });

  return router;
}
