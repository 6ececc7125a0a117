import { createBackend } from '@backstage/backend-defaults';
import {
  coreServices,
  createBackendFeatureLoader,
} from '@backstage/backend-plugin-api';
import { createMlPlatformRootHttpRouter } from '@internal/plugin-ml-platform-backend';
import { mlPlatformPermissionPolicyModule } from './permissionPolicy';

const backend = createBackend();

// Model invocations go straight from the HTTP server to the ML platform.
backend.add(createMlPlatformRootHttpRouter());

backend.add(import('@backstage/plugin-app-backend'));

// Sign-in: guest on the embedded defaults; see app-config.production.yaml for real providers.
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

// Catalog: models are Components with spec.type ml-model.
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
// Models published to the platform's own Git hosting.
backend.add(import('@internal/plugin-catalog-backend-module-ml-platform'));

// Scaffolder: the "New ML model" template and its publishing actions.
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@backstage/plugin-scaffolder-backend-module-github'));
backend.add(
  import('@backstage/plugin-scaffolder-backend-module-notifications'),
);

// Events: push webhooks arrive on /api/events/http/<topic>.
backend.add(import('@backstage/plugin-events-backend'));
backend.add(import('@backstage/plugin-events-backend-module-github'));
backend.add(import('@backstage/plugin-events-backend-module-gitlab'));
// Kafka topics into the events service (and events out to Kafka), for
// models fed by real-time traffic at scale; idle until
// events.modules.kafka is configured (see app-config.yaml).
backend.add(import('@backstage/plugin-events-backend-module-kafka'));

// Permissions: a model's owners and platform admins change it, every
// signed-in user reads and invokes (permission.mlPlatform in app-config.yaml).
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(mlPlatformPermissionPolicyModule);

backend.add(import('@backstage/plugin-user-settings-backend'));
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));

// The ML platform; its kubernetes runtime and S3 artifact store are chosen
// with mlPlatform.runtime and mlPlatform.artifacts.type (app-config.production.yaml).
backend.add(import('@internal/plugin-ml-platform-backend'));
backend.add(import('@internal/plugin-ml-platform-backend-module-kubernetes'));
backend.add(import('@internal/plugin-scaffolder-backend-module-ml-platform'));

// Backstage's Kubernetes plugin (the pods tab of a model's page): on when a
// `kubernetes` section configures clusters; off in the embedded defaults.
backend.add(
  createBackendFeatureLoader({
    deps: { config: coreServices.rootConfig },
    *loader({ config }) {
      if (config.has('kubernetes')) {
        yield import('@backstage/plugin-kubernetes-backend');
      }
    },
  }),
);

backend.start();
