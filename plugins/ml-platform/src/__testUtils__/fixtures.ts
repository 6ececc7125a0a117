import type { Entity } from '@backstage/catalog-model';
import {
  BatchExecution,
  ManifestField,
  MlModelManifest,
  ModelBuild,
  ModelDeployment,
  ModelPermissions,
  ModelSummary,
} from '@internal/plugin-ml-platform-common';

/** The churn example's catalog entry, with a GitHub source location. */
export const churnEntity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'churn',
    namespace: 'default',
    title: 'Churn classifier',
    annotations: {
      'backstage.io/source-location':
        'url:https://github.com/acme/ml-models/tree/main/models/churn/',
      'ml-platform/manifest-path': 'mlmodel.yaml',
    },
  },
  spec: {
    type: 'ml-model',
    lifecycle: 'experimental',
    owner: 'group:default/data-science',
  },
};

/** The six inputs of examples/models/churn/mlmodel.yaml. */
export const churnInputs: ManifestField[] = [
  {
    name: 'tenure_months',
    type: 'integer',
    description: 'Months since the customer signed up',
  },
  {
    name: 'monthly_charges',
    type: 'double',
    description: 'Current monthly bill in USD',
  },
  {
    name: 'total_charges',
    type: 'double',
    description: 'Total billed since sign-up in USD',
  },
  {
    name: 'contract',
    type: 'string',
    description: 'One of month-to-month, one-year, two-year',
  },
  {
    name: 'support_calls',
    type: 'integer',
    description: 'Support calls in the last 90 days',
  },
  {
    name: 'has_internet',
    type: 'boolean',
    description: 'Whether the customer has an internet plan',
  },
];

/** The churn example's validated manifest, as a build carries it. */
export const churnManifest: MlModelManifest = {
  apiVersion: 'ml-platform/v1',
  kind: 'Model',
  spec: {
    runtime: 'python',
    entrypoint: 'model:Model',
    schema: { inputs: churnInputs, outputs: [] },
    online: { replicas: 1, minReplicas: 0, maxReplicas: 4 },
    batch: { chunkSize: 1000, parallelism: 4, maxRetries: 3 },
  },
};

const MODEL_REF = 'component:default/churn';

export function build(
  version: number,
  overrides: Partial<ModelBuild> = {},
): ModelBuild {
  return {
    id: `0000000${version}-aaaa-bbbb-cccc-dddddddddddd`,
    modelRef: MODEL_REF,
    version,
    status: 'succeeded',
    trigger: 'push',
    triggerSource: 'github.push',
    requestedBy: 'user:default/ada',
    branch: 'main',
    commitSha: `a1b2c3d${version}`.padEnd(40, '0'),
    commitMessage: `change ${version}`,
    steps: [],
    createdAt: '2026-11-26T10:00:00Z',
    startedAt: '2026-11-26T10:00:00Z',
    finishedAt: '2026-11-26T10:01:05Z',
    ...overrides,
  };
}

export function deployment(
  overrides: Partial<ModelDeployment> = {},
): ModelDeployment {
  return {
    id: 'dep-online-1',
    modelRef: MODEL_REF,
    buildId: build(2).id,
    type: 'online',
    status: 'ready',
    replicas: 2,
    minReplicas: 0,
    maxReplicas: 4,
    readyReplicas: 2,
    createdAt: '2026-11-26T10:00:00Z',
    updatedAt: '2026-11-26T10:00:00Z',
    ...overrides,
  };
}

export function execution(
  overrides: Partial<BatchExecution> = {},
): BatchExecution {
  return {
    id: 'exec-1111-2222',
    modelRef: MODEL_REF,
    deploymentId: 'dep-batch-1',
    buildId: build(2).id,
    status: 'running',
    chunkSize: 1000,
    parallelism: 4,
    maxRetries: 3,
    chunksTotal: 10,
    chunksDone: 4,
    chunksFailed: 0,
    rowsTotal: 10000,
    rowsDone: 4000,
    rowsFailed: 0,
    rowsPerSecond: 1234.5,
    etaSeconds: 125,
    input: { type: 'upload', uploadId: 'up-1', format: 'csv' },
    output: { type: 'file', format: 'csv' },
    trigger: 'api',
    createdBy: 'user:default/ada',
    createdAt: '2026-11-26T10:00:00Z',
    startedAt: '2026-11-26T10:00:01Z',
    ...overrides,
  };
}

export function summary(
  platform: Partial<ModelSummary['platform']> = {},
): ModelSummary {
  return {
    ref: MODEL_REF,
    namespace: 'default',
    name: 'churn',
    title: 'Churn classifier',
    owner: 'group:default/data-science',
    tags: [],
    platform: { registered: true, runningExecutions: 0, ...platform },
  };
}

export const allowAll: ModelPermissions = {
  build: { allowed: true },
  deploy: { allowed: true },
  execute: { allowed: true },
  register: { allowed: true },
  cancelBuild: { allowed: true },
  updateDeployment: { allowed: true },
  deleteDeployment: { allowed: true },
  cancelExecution: { allowed: true },
  updateAlerts: { allowed: true },
  invoke: { allowed: true },
  read: { allowed: true },
};

/** The policy's reason for a user outside the model's owners. */
export const NOT_AN_OWNER =
  'user:default/bob is not an owner of component:default/churn';

/**
 * What `GET .../permissions` answers a signed-in user who does not own the
 * model: read and invoke, change nothing.
 */
export const nonOwner: ModelPermissions = Object.fromEntries(
  Object.keys(allowAll).map(key => [
    key,
    ['read', 'invoke'].includes(key)
      ? { allowed: true }
      : { allowed: false, reason: NOT_AN_OWNER },
  ]),
) as unknown as ModelPermissions;
