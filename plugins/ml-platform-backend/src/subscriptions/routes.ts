import { InputError } from '@backstage/errors';
import { PlatformApiRouter, RouteContext } from '../subsystems/types';
import { parseInput } from '../http/parseInput';
import { SubscriptionService } from './SubscriptionService';
import {
  createSubscriptionBody,
  deadLettersQuery,
  updateSubscriptionBody,
} from './subscriptionRequests';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Subscriptions (real-time triggers) and their dead letters. */
export function subscriptionRoutes(
  api: PlatformApiRouter,
  ctx: RouteContext,
  services: { subscriptions: SubscriptionService },
) {
  const { httpAuth, callerOf } = ctx;
  const { subscriptions } = services;

  api.post('/models/:namespace/:name/subscriptions', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseInput(createSubscriptionBody, req.body, 'body');
    res.status(201).json(await subscriptions.create(req.params, body, caller));
  });

  api.get('/models/:namespace/:name/subscriptions', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json({ items: await subscriptions.list(req.params, credentials) });
  });

  api.get('/subscriptions/:id', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await subscriptions.get(req.params.id, credentials));
  });

  api.patch('/subscriptions/:id', async (req, res) => {
    const caller = await callerOf(req, res);
    const body = parseInput(updateSubscriptionBody, req.body, 'body');
    res.json(await subscriptions.update(req.params.id, body, caller));
  });

  api.delete('/subscriptions/:id', async (req, res) => {
    const caller = await callerOf(req, res);
    await subscriptions.remove(req.params.id, caller);
    res.status(204).end();
  });

  api.get('/subscriptions/:id/deadletters', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { limit } = parseInput(deadLettersQuery, req.query, 'query');
    res.json({
      items: await subscriptions.deadLetters(req.params.id, limit, credentials),
    });
  });

  api.post(
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
