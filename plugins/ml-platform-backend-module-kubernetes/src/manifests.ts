import {
  ArtifactLink,
  BatchExecutionSpec,
  ModelBuildArtifact,
  OnlineDeploymentSpec,
} from '@internal/plugin-ml-platform-node';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { runtimeSchemaJson } from '@internal/ml-platform-model-runtime';
import { KubernetesRuntimeConfig } from './config';

/** Labels the runtime sets and selects by. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  model: 'ml-platform/model',
  version: 'ml-platform/version',
  deployment: 'ml-platform/deployment',
  build: 'ml-platform/build',
  execution: 'ml-platform/execution',
} as const;
export const MANAGED_BY = 'ml-platform';
export const MANAGED = `${LABELS.managedBy}=${MANAGED_BY}`;

/** Where the model server listens in its pod. */
export const MODEL_PORT = 8080;
export const SERVICE_PORT = 80;
const MODEL_DIR = '/mnt/model';

/** A DNS-1035 label: lowercase letters, digits and '-', starting with a letter. */
function dnsLabel(value: string, max: number): string {
  const label = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return label || 'model';
}

/** A label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(value: string): string {
  return (
    value
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .slice(0, 63)
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'x'
  );
}

/** Names of an online deployment's objects: `mlp-<model>-<id>`. */
export function onlineName(modelName: string, deploymentId: string): string {
  return `mlp-${dnsLabel(modelName, 40)}-${dnsLabel(deploymentId, 8)}`;
}

/** A batch Job's name; `attempt` tells apart the Jobs of one execution. */
export function jobName(
  modelName: string,
  executionId: string,
  attempt: string,
): string {
  return `mlpb-${dnsLabel(modelName, 30)}-${dnsLabel(
    executionId,
    8,
  )}-${dnsLabel(attempt, 6)}`;
}

function modelLabels(build: ModelBuildArtifact, modelName: string) {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.model]: labelValue(modelName),
    [LABELS.version]: String(build.buildVersion),
    [LABELS.build]: labelValue(build.buildId),
  };
}

const containerSecurity = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
};

/** The init container that fetches the build and checks its digest. */
function fetchContainer(
  config: KubernetesRuntimeConfig,
  build: ModelBuildArtifact,
  artifactUrl: string,
  token: { secret: string; key: string },
) {
  return {
    name: 'fetch-model',
    image: config.image,
    imagePullPolicy: config.imagePullPolicy,
    args: ['fetch'],
    env: [
      { name: 'MLP_MODEL_DIR', value: MODEL_DIR },
      { name: 'MLP_ARTIFACT_URL', value: artifactUrl },
      { name: 'MLP_ARTIFACT_DIGEST', value: build.artifactDigest },
      {
        name: 'MLP_ARTIFACT_TOKEN',
        valueFrom: { secretKeyRef: { name: token.secret, key: token.key } },
      },
      { name: 'MLP_SCHEMA', value: runtimeSchemaJson(build) },
      {
        name: 'MLP_REQUIREMENTS',
        value: build.requirements ?? 'requirements.txt',
      },
    ],
    volumeMounts: [{ name: 'model', mountPath: MODEL_DIR }],
    securityContext: containerSecurity,
  };
}

function podSpecBase(config: KubernetesRuntimeConfig) {
  return {
    automountServiceAccountToken: false,
    ...(config.serviceAccountName
      ? { serviceAccountName: config.serviceAccountName }
      : {}),
    ...(config.imagePullSecrets.length
      ? { imagePullSecrets: config.imagePullSecrets.map(name => ({ name })) }
      : {}),
    securityContext: { runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 },
    volumes: [{ name: 'model', emptyDir: {} }],
  };
}

/** The key of a build's artifact token in a deployment's Secret. */
export function buildTokenKey(build: ModelBuildArtifact): string {
  return `build-${build.buildVersion}`;
}

/**
 * The Secret holding a deployment's or execution's artifact tokens, with
 * when each expires (annotation `ml-platform/expires-at`, JSON).
 */
export function tokenSecret(options: {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  tokens: Record<string, Pick<ArtifactLink, 'token' | 'expiresAt'>>;
}) {
  const expiresAt = JSON.stringify(
    Object.fromEntries(
      Object.entries(options.tokens).map(([k, t]) => [k, t.expiresAt]),
    ),
  );
  return new Secret({
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: options.labels,
      annotations: { 'ml-platform/expires-at': expiresAt },
    },
    type: 'Opaque',
    stringData: Object.fromEntries(
      Object.entries(options.tokens).map(([k, t]) => [k, t.token]),
    ),
  }).toJSON();
}

/** Everything an online deployment is made of. */
export function onlineManifests(options: {
  config: KubernetesRuntimeConfig;
  spec: OnlineDeploymentSpec;
  artifactUrl: string;
}) {
  const { config, spec, artifactUrl } = options;
  const name = onlineName(spec.modelName, spec.deploymentId);
  const namespace = config.namespace;
  const selector = { [LABELS.deployment]: spec.deploymentId };
  const labels = {
    ...spec.labels,
    ...modelLabels(spec.build, spec.modelName),
    ...selector,
  };
  const autoscaled =
    spec.replicas > 0 &&
    spec.minReplicas !== undefined &&
    spec.maxReplicas !== undefined &&
    spec.maxReplicas > Math.max(1, spec.minReplicas);
  const secretName = `${name}-artifact`;
  const deployment = new Deployment({
    metadata: {
      name,
      namespace,
      labels,
      annotations: {
        'ml-platform/model-ref': spec.build.modelRef,
        'ml-platform/build-id': spec.build.buildId,
      },
    },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selector },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: '100%' },
      },
      template: {
        metadata: {
          labels,
          annotations: {
            'ml-platform/artifact-digest': spec.build.artifactDigest,
          },
        },
        spec: {
          ...podSpecBase(config),
          terminationGracePeriodSeconds: config.terminationGracePeriodSeconds,
          initContainers: [
            fetchContainer(config, spec.build, artifactUrl, {
              secret: secretName,
              key: buildTokenKey(spec.build),
            }),
          ],
          containers: [
            {
              name: 'model',
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              args: ['serve'],
              env: [
                { name: 'MLP_MODEL_DIR', value: MODEL_DIR },
                { name: 'MLP_ENTRYPOINT', value: spec.build.entrypoint },
                { name: 'MLP_MODEL_NAME', value: spec.modelName },
                {
                  name: 'MLP_MODEL_VERSION',
                  value: String(spec.build.buildVersion),
                },
                {
                  name: 'MLP_HOST',
                  valueFrom: { fieldRef: { fieldPath: 'status.podIP' } },
                },
                { name: 'MLP_PORT', value: String(MODEL_PORT) },
              ],
              ports: [
                { name: 'http', containerPort: MODEL_PORT, protocol: 'TCP' },
              ],
              readinessProbe: {
                httpGet: { path: '/v2/health/ready', port: 'http' },
                periodSeconds: 5,
                failureThreshold: 2,
              },
              livenessProbe: {
                httpGet: { path: '/v2/health/live', port: 'http' },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              // The server listens once the model is loaded: give it time.
              startupProbe: {
                httpGet: { path: '/v2/health/live', port: 'http' },
                periodSeconds: 2,
                failureThreshold: 150,
              },
              ...(config.resources ? { resources: config.resources } : {}),
              volumeMounts: [
                { name: 'model', mountPath: MODEL_DIR, readOnly: true },
              ],
              securityContext: containerSecurity,
            },
          ],
        },
      },
    },
  });
  const service = new Service({
    metadata: { name, namespace, labels },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [
        {
          name: 'http',
          port: SERVICE_PORT,
          targetPort: 'http',
          protocol: 'TCP',
        },
      ],
    },
  });
  const hpa = autoscaled
    ? new HorizontalPodAutoscaler({
        metadata: { name, namespace, labels },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas: Math.max(1, spec.minReplicas!),
          maxReplicas: spec.maxReplicas!,
          metrics: [
            {
              type: 'Resource',
              resource: {
                name: 'cpu',
                target: {
                  type: 'Utilization',
                  averageUtilization: config.targetCPUUtilization,
                },
              },
            },
          ],
        },
      })
    : undefined;
  for (const m of [deployment, service, hpa]) m?.validate();
  return {
    name,
    secretName,
    labels,
    deployment: deployment.toJSON(),
    service: service.toJSON(),
    hpa: hpa?.toJSON(),
  };
}

/** The Indexed Job of a batch execution: one index per chunk. */
export function batchJob(options: {
  config: KubernetesRuntimeConfig;
  spec: BatchExecutionSpec;
  name: string;
  completions: number;
  artifactUrl: string;
  planUrl: string;
}) {
  const { config, spec, name } = options;
  const secretName = `${name}-tokens`;
  const labels = {
    ...modelLabels(spec.build, spec.modelName),
    [LABELS.execution]: spec.executionId,
  };
  const job = new Job({
    metadata: { name, namespace: config.namespace, labels },
    spec: {
      completionMode: 'Indexed',
      completions: options.completions,
      parallelism: Math.min(spec.parallelism, options.completions),
      backoffLimitPerIndex: spec.maxRetries,
      // One chunk failed for good fails the execution: stop the rest.
      maxFailedIndexes: 0,
      // Bad input fails again: no retry for the batch worker's exit code 2.
      podFailurePolicy: {
        rules: [
          {
            action: 'FailIndex',
            onExitCodes: {
              containerName: 'batch',
              operator: 'In',
              values: [2],
            },
          },
        ],
      },
      ttlSecondsAfterFinished: config.jobTtlSeconds,
      template: {
        metadata: { labels },
        spec: {
          ...podSpecBase(config),
          restartPolicy: 'Never',
          initContainers: [
            fetchContainer(config, spec.build, options.artifactUrl, {
              secret: secretName,
              key: 'artifactToken',
            }),
          ],
          containers: [
            {
              name: 'batch',
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              args: ['batch'],
              env: [
                { name: 'MLP_MODEL_DIR', value: '/mnt/model' },
                { name: 'MLP_ENTRYPOINT', value: spec.build.entrypoint },
                { name: 'MLP_PLAN_URL', value: options.planUrl },
                {
                  name: 'MLP_PLAN_TOKEN',
                  valueFrom: {
                    secretKeyRef: { name: secretName, key: 'planToken' },
                  },
                },
              ],
              ...(config.batchResources
                ? { resources: config.batchResources }
                : {}),
              terminationMessagePolicy: 'File',
              volumeMounts: [
                { name: 'model', mountPath: '/mnt/model', readOnly: true },
              ],
              securityContext: containerSecurity,
            },
          ],
        },
      },
    },
  });
  job.validate();
  return { job: job.toJSON(), secretName, labels };
}
