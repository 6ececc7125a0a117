import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { startTestBackend } from '@backstage/backend-test-utils';
import { mockServices } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import guestProvider from '@backstage/plugin-auth-backend-module-guest-provider';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import eventsPlugin from '@backstage/plugin-events-backend';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { JsonObject } from '@backstage/types';
import { mlPlatformPlugin } from '../plugin';
import {
  githubEventsModules,
  gitlabEventsModules,
} from './githubEventsModules';
import { ModelRepository, waitFor } from './modelRepository';

/** A catalog `ml-model` component, with annotations. */
export function modelEntity(
  name: string,
  annotations: Record<string, string> = {},
) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default', annotations },
    spec: {
      type: 'ml-model',
      owner: 'group:default/data-science',
      lifecycle: 'experimental',
    },
  };
}

export interface SecurityBackend {
  server: any;
  /** `Authorization` header of a guest, signed in through the real auth plugin. */
  guest: { Authorization: string };
  repo: ModelRepository;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * The backend as a fresh clone runs it, for replaying attacks: the real
 * catalog (entities from a file), auth (guest sign-in, real token checks),
 * events (the GitHub and GitLab webhook modules) and scheduler, and the
 * ML platform on its embedded defaults plus `config`. Models live in a
 * local Git repository under the git root.
 */
export async function startSecurityBackend(options: {
  entities: object[];
  models?: Record<string, string>;
  config?: JsonObject;
  events?: JsonObject;
  /** More top-level config, e.g. `integrations`. */
  rootConfig?: JsonObject;
}): Promise<SecurityBackend> {
  const repo = await ModelRepository.create(
    options.models ?? { churn: 'churn' },
  );
  const dataDir = await fs.promises.mkdtemp(
    path.join(os.tmpdir(), 'mlp-security-'),
  );
  const catalogFile = path.join(dataDir, 'catalog-info.yaml');
  await fs.promises.writeFile(
    catalogFile,
    [
      ...options.entities,
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'User',
        metadata: { name: 'guest', namespace: 'default' },
        // memberOf is required: an invalid entity is reprocessed with errors
        // every second, and the catalog publishes each error unawaited, which
        // fails the test run when it lands after the events service stops.
        spec: { memberOf: [] },
      },
    ]
      .map(e => JSON.stringify(e))
      .join('\n---\n'),
  );
  const backend = await startTestBackend({
    features: [
      mlPlatformPlugin,
      catalogPlugin,
      authPlugin,
      guestProvider,
      authServiceFactory,
      httpAuthServiceFactory,
      eventsServiceFactory,
      eventsPlugin,
      ...githubEventsModules(),
      ...gitlabEventsModules(),
      schedulerServiceFactory,
      mockServices.rootConfig.factory({
        data: {
          ...options.rootConfig,
          app: { baseUrl: 'http://localhost:3000' },
          auth: {
            environment: 'development',
            providers: {
              guest: {
                userEntityRef: 'user:default/guest',
                dangerouslyAllowOutsideDevelopment: true,
              },
            },
          },
          catalog: {
            locations: [{ type: 'file', target: catalogFile }],
            rules: [{ allow: ['Component', 'User', 'Group'] }],
            processingInterval: { seconds: 1 },
          },
          events: options.events ?? { http: { topics: ['github', 'gitlab'] } },
          mlPlatform: {
            dataDir,
            git: { root: repo.root },
            builds: { pollInterval: 0, heartbeatInterval: 200 },
            ...options.config,
          },
        },
      }),
    ],
  });
  const server = backend.server;
  const refresh = await request(server)
    .post('/api/auth/guest/refresh')
    .set('X-Requested-With', 'XMLHttpRequest');
  if (refresh.status !== 200) {
    throw new Error(
      `guest sign-in failed: ${refresh.status} ${JSON.stringify(refresh.body)}`,
    );
  }
  const guest = {
    Authorization: `Bearer ${refresh.body.backstageIdentity.token}`,
  };
  const first = (options.entities[0] as { metadata: { name: string } }).metadata
    .name;
  await waitFor(
    async () =>
      (
        await request(server)
          .get(`/api/ml-platform/models/default/${first}`)
          .set(guest)
      ).status === 200,
    { what: 'the catalog to ingest the models', timeoutMs: 60_000 },
  );
  return {
    server,
    guest,
    repo,
    dataDir,
    async stop() {
      await backend.stop();
      await repo.remove();
      await fs.promises.rm(dataDir, { recursive: true, force: true });
    },
  };
}
