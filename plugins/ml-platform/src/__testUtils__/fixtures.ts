import type { Entity } from '@backstage/catalog-model';
import {
  BatchExecution,
  ManifestField,
  MlModelManifest,
  ModelBuild,
  ModelDeployment,
  ModelMetrics,
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
    interface: 'records',
    schema: { inputs: churnInputs, outputs: [] },
    online: { replicas: 1, minReplicas: 0, maxReplicas: 4 },
    batch: { chunkSize: 1000, parallelism: 4, maxRetries: 3 },
  },
};

/** A model taking a 2-D array: three numeric inputs, `interface: ndarray`. */
export const ndarrayManifest: MlModelManifest = {
  apiVersion: 'ml-platform/v1',
  kind: 'Model',
  spec: {
    runtime: 'python',
    entrypoint: 'model:Model',
    interface: 'ndarray',
    schema: {
      inputs: [
        { name: 'sepal_length', type: 'double' },
        { name: 'petal_length', type: 'double' },
        { name: 'stems', type: 'integer' },
      ],
      outputs: [],
    },
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

/** Three one-minute steps of churn's health, from two versions. */
export function modelMetrics(
  overrides: Partial<ModelMetrics> = {},
): ModelMetrics {
  const t0 = Date.UTC(2026, 11, 3, 10, 0, 0);
  return {
    source: 'embedded',
    from: new Date(t0).toISOString(),
    to: new Date(t0 + 180_000).toISOString(),
    stepSeconds: 60,
    timestamps: [t0, t0 + 60_000, t0 + 120_000],
    deployments: ['d1-aaaaaaaa', 'd2-bbbbbbbb'],
    versions: [2, 3],
    summary: {
      requests: 1260,
      requestsPerSecond: 7,
      errors: 63,
      errorRatio: 0.05,
      rows: 2520,
      latencyP50: 0.0021,
      latencyP95: 0.0187,
      latencyP99: 0.042,
    },
    requestsPerSecond: [
      { name: '2', values: [5, 4, 3] },
      { name: '3', values: [1, 2, 2] },
    ],
    latencySeconds: [
      { name: 'p50', values: [0.002, 0.0021, 0.0022] },
      { name: 'p95', values: [0.018, 0.019, 0.0187] },
      { name: 'p99', values: [0.04, 0.042, 0.043] },
    ],
    errorRatio: [
      { name: 'all', values: [0.05, 0.05, 0.05] },
      { name: 'caller_error', values: [0.04, 0.04, 0.04] },
      { name: 'model_error', values: [0.01, 0.01, 0.01] },
      { name: 'unavailable', values: [0, 0, 0] },
      { name: 'timeout', values: [0, 0, 0] },
    ],
    rowsPerSecond: [{ name: 'rows', values: [12, 12, 10] }],
    inFlight: [{ name: 'max', values: [2, 3, 2] }],
    predictions: [
      {
        output: 'churn',
        kind: 'class',
        bins: [
          { bin: 'false', current: 900, previous: 1100 },
          { bin: 'true', current: 300, previous: 100 },
        ],
        currentTotal: 1200,
        previousTotal: 1200,
      },
      {
        output: 'churn_probability',
        kind: 'numeric',
        bins: [
          { bin: '0.1 to 0.2', le: 0.2, current: 700, previous: 1000 },
          { bin: '0.8 to 0.9', le: 0.9, current: 500, previous: 200 },
        ],
        currentTotal: 1200,
        previousTotal: 1200,
        currentMean: 0.41,
        previousMean: 0.27,
      },
    ],
    kpis: [
      {
        name: 'revenue_at_risk',
        sum: [100, 120, null],
        count: [10, 12, 0],
        total: { sum: 220, count: 22 },
      },
    ],
    replicas: {
      restarts: [{ name: 'restarts', values: [0, 1, 0] }],
      ready: [
        { name: 'ready', values: [2, 1, 2] },
        { name: 'desired', values: [2, 2, 2] },
      ],
      cpuCores: [{ name: 'cpu', values: [0.2, 0.3, 0.2] }],
      memoryBytes: [{ name: 'memory', values: [5e7, 5e7, 5e7] }],
      current: [
        {
          deploymentId: 'd1-aaaaaaaa',
          replicaId: 'r1',
          buildId: 'b3',
          version: 3,
          state: 'ready',
          ready: true,
          restarts: 1,
          cpuSeconds: 12.34,
          memoryBytes: 52_428_800,
          startedAt: '2026-12-03T10:00:00.000Z',
        },
      ],
    },
    batch: {
      rowsPerSecond: [{ name: 'rows', values: [0, 0, 0] }],
      chunks: [],
      chunkSeconds: [],
      totals: { chunks: 0, failedChunks: 0, rows: 0 },
    },
    ...overrides,
  };
}

/** A range with no call and no batch chunk. */
export function quietMetrics(): ModelMetrics {
  const m = modelMetrics();
  return {
    ...m,
    deployments: [],
    versions: [],
    summary: {
      requests: 0,
      requestsPerSecond: 0,
      errors: 0,
      errorRatio: null,
      rows: 0,
      latencyP50: null,
      latencyP95: null,
      latencyP99: null,
    },
    requestsPerSecond: [],
    predictions: [],
    kpis: [],
    replicas: { ...m.replicas, current: [] },
  };
}

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
