import { EventsService } from '@backstage/plugin-events-node';
import { NotificationService } from '@backstage/plugin-notifications-node';
import { PlatformCore } from '../subsystems/core';
import { Subsystem } from '../subsystems/types';
import { BuildNotifier } from './BuildNotifier';
import { BuildQueue } from './BuildQueue';
import { BuildRunner } from './BuildRunner';
import { BuildService } from './BuildService';
import { GitRemotes } from './GitSource';
import { seedRepositories } from './RepositorySeeder';
import { buildRoutes } from './routes';
import {
  authenticatedPushTopics,
  carriesSignature,
  parsePushEvent,
} from './triggers/pushEvents';

/** Builds: the durable queue, its runner, push and poll triggers. */
export interface BuildsSubsystem extends Subsystem {
  builds: BuildService;
}

export async function createBuildsSubsystem(
  core: PlatformCore,
  deps: { events: EventsService; notifications: NotificationService },
): Promise<BuildsSubsystem> {
  const { config, platformConfig, logger, stores, sandbox } = core;
  const git = new GitRemotes(config);
  const notifier = new BuildNotifier({
    auth: core.auth,
    catalog: core.catalog,
    notifications: deps.notifications,
    logger,
  });
  const queue = new BuildQueue({
    stores,
    runner: new BuildRunner({
      stores,
      artifactStore: core.artifactStore,
      config: platformConfig,
      git,
      sandbox,
      logger,
    }),
    logger,
    concurrency: platformConfig.builds.concurrency,
    heartbeatMs: platformConfig.builds.heartbeatMs,
    staleAfterMs: platformConfig.builds.staleAfterMs,
    timeoutMs: platformConfig.builds.timeoutMs,
    onFinished: build => notifier.onFinished(build),
  });
  const builds = new BuildService({
    stores,
    models: core.models,
    changes: core.changes,
    quotas: core.quotas,
    git,
    logger,
    queue,
  });

  await seedRepositories({
    seeds: platformConfig.seedRepositories,
    gitRoot: platformConfig.gitRoot,
    stores,
    logger,
  });

  // Only signed pushes build: anyone who can reach the backend can post to
  // the events ingress.
  const push = authenticatedPushTopics(config);
  if (push.advice) logger.info(push.advice);
  if (push.topics.length > 0) {
    await deps.events.subscribe({
      id: 'ml-platform-builds',
      topics: push.topics,
      async onEvent(event) {
        if (!carriesSignature(event)) {
          logger.warn(
            'Push ignored: it carries no signature (is the events backend webhook module installed?)',
            { topic: event.topic },
          );
          return;
        }
        const parsed = parsePushEvent(event);
        if (parsed) await builds.onPush(parsed);
      },
    });
  }

  return {
    name: 'builds',
    builds,
    routes: (api, ctx) =>
      buildRoutes(api, ctx, { builds, models: core.models }),
    tasks:
      platformConfig.builds.pollIntervalMs > 0
        ? [
            {
              id: 'ml-platform-git-poll',
              frequency: { milliseconds: platformConfig.builds.pollIntervalMs },
              timeout: { minutes: 10 },
              initialDelay: { seconds: 5 },
              fn: async () => {
                await builds.poll();
              },
            },
          ]
        : [],
    onStartup: [() => queue.start()],
    onShutdown: [() => queue.stop()],
  };
}
