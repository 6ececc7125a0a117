import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { NotificationService } from '@backstage/plugin-notifications-node';
import { ModelBuild } from '@internal/plugin-ml-platform-common';
import { errorMeta } from '../util/logging';

/** Tells a model's owner that one of its builds failed. */
export class BuildNotifier {
  constructor(
    private readonly options: {
      auth: AuthService;
      catalog: CatalogService;
      notifications: NotificationService;
      logger: LoggerService;
    },
  ) {}

  async onFinished(build: ModelBuild): Promise<void> {
    if (build.status !== 'failed') return;
    const { auth, catalog, notifications, logger } = this.options;
    try {
      const entity = await catalog.getEntityByRef(build.modelRef, {
        credentials: await auth.getOwnServiceCredentials(),
      });
      const owner = (entity?.spec as { owner?: string } | undefined)?.owner;
      if (!entity || !owner) return;
      const ownerRef = stringifyEntityRef(
        parseEntityRef(owner, {
          defaultKind: 'group',
          defaultNamespace: entity.metadata.namespace ?? 'default',
        }),
      );
      const { namespace, name } = parseEntityRef(build.modelRef);
      await notifications.send({
        recipients: { type: 'entity', entityRef: ownerRef },
        payload: {
          title: `Build v${build.version} of ${name} failed`,
          description: build.failureReason,
          link: `/catalog/${namespace}/component/${name}/ml-platform?build=${build.id}`,
          severity: 'high',
          topic: `ml-platform:${build.modelRef}`,
          scope: `ml-platform-build:${build.id}`,
        },
      });
    } catch (error) {
      logger.warn('could not notify the owner about a build', {
        buildId: build.id,
        model: build.modelRef,
        ...errorMeta(error),
      });
    }
  }
}
