import {
  AuditorService,
  AuthService,
  DatabaseService,
  DiscoveryService,
  LoggerService,
  PermissionsRegistryService,
  PermissionsService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { mlPlatformPermissions } from '@internal/plugin-ml-platform-common';
import {
  ArtifactStore,
  Runtime,
  RuntimeFactory,
  RuntimeFactoryContext,
  TypedFactories,
} from '@internal/plugin-ml-platform-node';
import path from 'node:path';
import { ModelAccess } from '../access/ModelAccess';
import { ModelChanges } from '../activity/ModelChanges';
import { ArtifactRoutes } from '../artifacts/ArtifactRoutes';
import { ArtifactTokens } from '../artifacts/ArtifactTokens';
import {
  AddedArtifactStore,
  artifactStoreFactories,
} from '../artifacts/selectArtifactStore';
import { PlatformStores, createDatabaseStores } from '../database';
import { BuildPackages } from '../deployments/BuildPackages';
import { PlatformConfig, readPlatformConfig } from '../platformConfig';
import { Quotas } from '../quotas/Quotas';
import { LocalRuntime } from '../runtimes/local';
import { Sandbox } from '../sandbox/Sandbox';
import { ModelCatalog } from '../services/ModelCatalog';

/** What every subsystem builds on: config, stores, access, models, runtime. */
export interface PlatformCore {
  config: RootConfigService;
  platformConfig: PlatformConfig;
  logger: LoggerService;
  auth: AuthService;
  catalog: CatalogService;
  stores: PlatformStores;
  access: ModelAccess;
  changes: ModelChanges;
  models: ModelCatalog;
  quotas: Quotas;
  sandbox: Sandbox;
  artifactStore: ArtifactStore;
  /** Where deployments and batch workers run. */
  runtime: Runtime;
  /** Succeeded builds as runnable packages on this host. */
  packages: BuildPackages;
  /** Artifacts for runtimes on other hosts, behind scoped tokens. */
  artifacts: ArtifactRoutes;
}

/** The shared parts of the platform, from the plugin's dependencies. */
export async function createPlatformCore(options: {
  config: RootConfigService;
  logger: LoggerService;
  database: DatabaseService;
  auth: AuthService;
  permissions: PermissionsService;
  permissionsRegistry: PermissionsRegistryService;
  auditor: AuditorService;
  catalog: CatalogService;
  discovery: DiscoveryService;
  /** Runtimes by type (`mlPlatform.runtime`), from the extension point. */
  runtimes: TypedFactories<Runtime, RuntimeFactoryContext>;
  /** Filled in here: the built-in runtimes need the sandbox. */
  builtInRuntimes: { local?: RuntimeFactory };
  addedArtifactStores: AddedArtifactStore[];
}): Promise<PlatformCore> {
  const { config, logger, auth, catalog } = options;
  const platformConfig = readPlatformConfig(config);
  const storeFactories = artifactStoreFactories(platformConfig);
  for (const [storeOrType, factory] of options.addedArtifactStores) {
    storeFactories.add(storeOrType, factory);
  }
  const artifactStore = await storeFactories.create(
    platformConfig.artifacts.type,
    { config, logger },
    'mlPlatform.artifacts.type',
  );
  logger.info('ML platform data and artifact store', {
    dataDir: platformConfig.dataDir,
    artifactStore: artifactStore.type,
  });
  options.permissionsRegistry.addPermissions(mlPlatformPermissions);

  const stores = await createDatabaseStores(options.database);
  const access = new ModelAccess(options.permissions);
  const changes = new ModelChanges({
    access,
    auditor: options.auditor,
    store: stores.activity,
    logger,
  });
  const models = new ModelCatalog({ catalog, stores, auth, access, changes });
  const quotas = new Quotas({
    limits: platformConfig.quotas,
    stores,
    catalog,
    auth,
  });
  // Model code never runs uncontained: a sandbox that cannot work
  // stops the start with what to change.
  const sandbox = await Sandbox.create({
    config: platformConfig.sandbox,
    python: platformConfig.python,
    allowedPythons: platformConfig.builds.allowedPythons,
    dataDir: platformConfig.dataDir,
    logger,
  });
  options.builtInRuntimes.local = context =>
    new LocalRuntime({
      logger: context.logger.child({ runtime: 'local' }),
      logDir: path.join(platformConfig.dataDir, 'logs', 'deployments'),
      packages: context.packages,
      sandbox,
      batchWorkerIdleMs: platformConfig.batch.workerIdleMs,
    });
  const packages = new BuildPackages({
    stores,
    artifactStore,
    config: platformConfig,
    sandbox,
    logger,
  });
  const artifacts = new ArtifactRoutes({
    store: artifactStore,
    tokens: new ArtifactTokens(() =>
      stores.signingKeys.getSigningKey('artifacts'),
    ),
    baseUrl: async () =>
      platformConfig.artifacts.baseUrl ??
      (await options.discovery.getExternalBaseUrl('ml-platform')),
    defaultTtlMs: platformConfig.artifacts.tokenTtlMs,
    tmpDir: path.join(platformConfig.dataDir, 'tmp'),
    maxUploadBytes: platformConfig.batch.maxUploadBytes,
  });
  const runtime = await options.runtimes.create(
    platformConfig.runtime,
    {
      config,
      logger: logger.child({ runtime: platformConfig.runtime }),
      artifactStore,
      artifactLinks: artifacts,
      packages,
    },
    'mlPlatform.runtime',
  );
  return {
    config,
    platformConfig,
    logger,
    auth,
    catalog,
    stores,
    access,
    changes,
    models,
    quotas,
    sandbox,
    artifactStore,
    runtime,
    packages,
    artifacts,
  };
}
