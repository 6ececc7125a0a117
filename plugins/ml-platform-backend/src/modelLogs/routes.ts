import { HttpAuthService } from '@backstage/backend-plugin-api';
import express from 'express';
import { parseRequest } from '../validation';
import { LogSearch, logsQuery } from './LogSearch';

/** `GET models/{ns}/{name}/logs`. */
export function addLogRoutes(
  router: express.Router,
  options: { httpAuth: HttpAuthService; logs: LogSearch },
) {
  router.get('/models/:namespace/:name/logs', async (req, res) => {
    const credentials = await options.httpAuth.credentials(req);
    const query = parseRequest(logsQuery, req.query, 'query');
    res.json(await options.logs.search(req.params, query, credentials));
  });
}
