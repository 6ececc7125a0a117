import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import { KubeConfig } from '@kubernetes/client-node';

/** Requests and limits of a container. */
export interface Resources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** `mlPlatform.kubernetes`, with defaults applied. */
export interface KubernetesRuntimeConfig {
  namespace: string;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets: string[];
  serviceAccountName?: string;
  resources?: Resources;
  batchResources?: Resources;
  replicaUrls: 'service' | 'pods';
  clusterDomain: string;
  terminationGracePeriodSeconds: number;
  targetCPUUtilization: number;
  jobTtlSeconds: number;
  batchTokenTtlMs: number;
}

function resources(config?: Config): Resources | undefined {
  if (!config) return undefined;
  const read = (key: string) => {
    const c = config.getOptionalConfig(key);
    if (!c) return undefined;
    return Object.fromEntries(c.keys().map(k => [k, String(c.get(k))]));
  };
  return { requests: read('requests'), limits: read('limits') };
}

/** A duration: milliseconds, `{ hours: 12 }` or an ISO duration. */
function durationMs(config: Config, key: string, fallback: number): number {
  if (!config.has(key)) return fallback;
  if (typeof config.get(key) === 'number') return config.getNumber(key);
  return durationToMilliseconds(readDurationFromConfig(config, { key }));
}

export function readKubernetesRuntimeConfig(
  root: Config,
): KubernetesRuntimeConfig {
  const c = root.getConfig('mlPlatform.kubernetes');
  const replicaUrls = c.getOptionalString('replicaUrls') ?? 'service';
  if (replicaUrls !== 'service' && replicaUrls !== 'pods') {
    throw new Error(
      `mlPlatform.kubernetes.replicaUrls must be service or pods, not ${replicaUrls}`,
    );
  }
  return {
    namespace: c.getOptionalString('namespace') ?? 'ml-models',
    image: c.getString('image'),
    imagePullPolicy: (c.getOptionalString('imagePullPolicy') ??
      'IfNotPresent') as KubernetesRuntimeConfig['imagePullPolicy'],
    imagePullSecrets: c.getOptionalStringArray('imagePullSecrets') ?? [],
    serviceAccountName: c.getOptionalString('serviceAccountName'),
    resources: resources(c.getOptionalConfig('resources')),
    batchResources:
      resources(c.getOptionalConfig('batch.resources')) ??
      resources(c.getOptionalConfig('resources')),
    replicaUrls,
    clusterDomain: c.getOptionalString('clusterDomain') ?? 'cluster.local',
    terminationGracePeriodSeconds:
      c.getOptionalNumber('terminationGracePeriodSeconds') ?? 30,
    targetCPUUtilization: c.getOptionalNumber('targetCPUUtilization') ?? 70,
    jobTtlSeconds: c.getOptionalNumber('batch.ttlSecondsAfterFinished') ?? 3600,
    batchTokenTtlMs: durationMs(c, 'batch.tokenTtl', 12 * 3600_000),
  };
}

/** The cluster connection `mlPlatform.kubernetes.auth` describes. */
export function loadKubeConfig(root: Config): KubeConfig {
  const c = root.getConfig('mlPlatform.kubernetes');
  const kc = new KubeConfig();
  const auth = c.getOptionalString('auth') ?? 'inCluster';
  if (auth === 'inCluster') {
    kc.loadFromCluster();
  } else if (auth === 'kubeconfig') {
    const file = c.getOptionalString('kubeconfig');
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
    const context = c.getOptionalString('context');
    if (context) kc.setCurrentContext(context);
  } else if (auth === 'token') {
    kc.loadFromOptions({
      clusters: [
        {
          name: 'ml-platform',
          server: c.getString('url'),
          caData: c.getOptionalString('caData'),
          caFile: c.getOptionalString('caFile'),
          skipTLSVerify: c.getOptionalBoolean('skipTLSVerify') ?? false,
        },
      ],
      users: [{ name: 'ml-platform', token: c.getString('token') }],
      contexts: [
        { name: 'ml-platform', cluster: 'ml-platform', user: 'ml-platform' },
      ],
      currentContext: 'ml-platform',
    });
  } else {
    throw new Error(
      `mlPlatform.kubernetes.auth must be inCluster, kubeconfig or token, not ${auth}`,
    );
  }
  return kc;
}
