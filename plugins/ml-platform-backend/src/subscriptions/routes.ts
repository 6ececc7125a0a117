import { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import express from 'express';
import { Caller } from '../activity/ModelChanges';
import { parseRequest } from '../validation';
import { SubscriptionService } from './SubscriptionService';
import {
  createSubscriptionBody,
  deadLettersQuery,
  updateSubscriptionBody,
} from './subscriptionRequests';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Subscriptions (real-time triggers) and their dead letters. */
export function addSubscriptionRoutes(
  router: express.Router,
  options: {
    httpAuth: HttpAuthService;
    callerOf(req: express.Request, res: express.Response): Promise<Caller>;
    subscriptions: SubscriptionService;
  },
) {
  const { httpAuth, callerOf, subscriptions } = options;

  router.post('/models/:namespace/:name/subscriptions', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseRequest(createSubscriptionBody, req.body, 'body');
    res.status(201).json(await subscriptions.create(req.params, body, caller));
  });

  router.get('/models/:namespace/:name/subscriptions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await subscriptions.list(req.params, credentials) });
  });

  router.get('/subscriptions/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await subscriptions.get(req.params.id, credentials));
  });

  router.patch('/subscriptions/:id', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseRequest(updateSubscriptionBody, req.body, 'body');
    res.json(await subscriptions.update(req.params.id, body, caller));
  });

  router.delete('/subscriptions/:id', async (req, res) => {
    const caller = await callerOf(req, res);
    await subscriptions.remove(req.params.id, caller);
    res.status(204).end();
  });

  router.get('/subscriptions/:id/deadletters', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { limit } = parseRequest(deadLettersQuery, req.query, 'query');
    res.json({
      items: await subscriptions.deadLetters(req.params.id, limit, credentials),
    });
  });

  router.post(
    '/subscriptions/:id/deadletters/:letterId/retry',
    async (req, res) => {
      const caller = await callerOf(req, res);
      if (!UUID.test(req.params.letterId)) {
        throw new InputError('path.letterId: expected a dead letter id');
      }
      await subscriptions.retryDeadLetter(
        req.params.id,
        req.params.letterId,
        caller,
      );
      res.status(202).json({ status: 'pending' });
    },
  );
}
