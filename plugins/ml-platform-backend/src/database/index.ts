import { DatabaseService } from '@backstage/backend-plugin-api';
import { DatabaseActivityStore } from './activity/DatabaseActivityStore';
import { AlertStore } from './alerts/AlertStore';
import { DatabaseAlertStore } from './alerts/DatabaseAlertStore';
import { ActivityStore } from './activity/ActivityStore';
import { DatabaseBuildStore } from './builds/DatabaseBuildStore';
import { BuildStore } from './builds/BuildStore';
import { DatabaseDeploymentStore } from './deployments/DatabaseDeploymentStore';
import { DeploymentStore } from './deployments/DeploymentStore';
import { DatabaseExecutionStore } from './executions/DatabaseExecutionStore';
import { ExecutionStore } from './executions/ExecutionStore';
import { DatabaseMetricsStore } from './metrics/DatabaseMetricsStore';
import { MetricsStore } from './metrics/MetricsStore';
import { applyDatabaseMigrations } from './migrations';
import { DatabaseModelStore } from './models/DatabaseModelStore';
import { ModelStore } from './models/ModelStore';
import { DatabaseSigningKeyStore } from './signingKeys/DatabaseSigningKeyStore';
import { SigningKeyStore } from './signingKeys/SigningKeyStore';
import { DatabasePredictionEventStore } from './predictionEvents/DatabasePredictionEventStore';
import { PredictionEventStore } from './predictionEvents/PredictionEventStore';
import { DatabaseSubscriptionStore } from './subscriptions/DatabaseSubscriptionStore';
import { SubscriptionStore } from './subscriptions/SubscriptionStore';
import { DatabaseLogStore } from './modelLogs/DatabaseLogStore';
import { LogStore } from './modelLogs/LogStore';

/** One store per aggregate; each service takes the ones it needs. */
export interface PlatformStores {
  models: ModelStore;
  builds: BuildStore;
  deployments: DeploymentStore;
  executions: ExecutionStore;
  activity: ActivityStore;
  signingKeys: SigningKeyStore;
  metrics: MetricsStore;
  alerts: AlertStore;
  predictionEvents: PredictionEventStore;
  subscriptions: SubscriptionStore;
  modelLogs: LogStore;
}

/** The knex stores over the plugin's database, migrated first. */
export async function createDatabaseStores(
  database: Pick<DatabaseService, 'getClient' | 'migrations'>,
): Promise<PlatformStores> {
  const db = await applyDatabaseMigrations(database);
  return {
    models: new DatabaseModelStore(db),
    builds: new DatabaseBuildStore(db),
    deployments: new DatabaseDeploymentStore(db),
    executions: new DatabaseExecutionStore(db),
    activity: new DatabaseActivityStore(db),
    signingKeys: new DatabaseSigningKeyStore(db),
    metrics: new DatabaseMetricsStore(db),
    alerts: new DatabaseAlertStore(db),
    predictionEvents: new DatabasePredictionEventStore(db),
    subscriptions: new DatabaseSubscriptionStore(db),
    modelLogs: new DatabaseLogStore(db),
  };
}

export type { ActivityStore, NewActivity } from './activity/ActivityStore';
export type {
  AlertStateRecord,
  AlertStore,
  NewAlertHistoryEntry,
} from './alerts/AlertStore';
export type {
  BuildLogLine,
  BuildStore,
  BuildUpdate,
  NewBuild,
} from './builds/BuildStore';
export type {
  DeploymentRecord,
  DeploymentStore,
  DeploymentUpdate,
  NewDeployment,
} from './deployments/DeploymentStore';
export type {
  ChunkRecord,
  ChunkStatus,
  ChunkUpdate,
  ExecutionRecord,
  ExecutionStore,
  ExecutionUpdate,
  NewExecution,
} from './executions/ExecutionStore';
export type { MetricsStore } from './metrics/MetricsStore';
export type { ModelRecord, ModelStore } from './models/ModelStore';
export type { SigningKeyStore } from './signingKeys/SigningKeyStore';
