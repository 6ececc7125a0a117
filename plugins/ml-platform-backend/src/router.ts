import { HttpAuthService } from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { ModelCatalog } from './services/ModelCatalog';
import { OpenApiDocument } from './schema/openApiDocument';
import { registerModelBody } from './schema/requests';
import { parseRequest } from './validation';

export interface RouterOptions {
  httpAuth: HttpAuthService;
  models: ModelCatalog;
  openApi: OpenApiDocument;
}

/**
 * The HTTP layer: parse, authorize, call a service, answer. Every route is in
 * src/schema/openapi.yaml (a test keeps them in step).
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { httpAuth, models, openApi } = options;
  const router = Router();
  router.use(express.json({ limit: '1mb' }));

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

  return router;
}
