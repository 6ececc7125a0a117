import { parseEntityRef } from '@backstage/catalog-model';
import { Runtime, ScrapeTarget } from '@internal/plugin-ml-platform-node';
import { BuildVersions } from './BuildVersions';

/** A target group of Prometheus' HTTP service discovery. */
export interface HttpSdTargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The runtime's targets, or its ready replicas' URLs at `/metrics`. */
function targetsOf(runtime: Runtime, deploymentId: string): ScrapeTarget[] {
  if (runtime.getScrapeTargets) return runtime.getScrapeTargets(deploymentId);
  const status = runtime.getOnlineStatus(deploymentId);
  return (status?.replicas ?? []).flatMap(replica => {
    if (replica.state !== 'ready' || !replica.url) return [];
    const url = new URL(replica.url);
    return [
      {
        replicaId: replica.id,
        buildId: replica.buildId,
        address: url.host,
        scheme:
          url.protocol === 'https:' ? ('https' as const) : ('http' as const),
      },
    ];
  });
}

/**
 * `GET runtime/scrape-targets`: every replica the runtime runs, in the
 * Prometheus HTTP SD format, so a Prometheus scrapes the model servers' own
 * `/metrics` directly, labelled like the platform's metrics.
 */
export async function listScrapeTargets(options: {
  runtime: Runtime;
  modelOf: (deploymentId: string) => Promise<string | undefined>;
  versions: BuildVersions;
}): Promise<HttpSdTargetGroup[]> {
  const { runtime, modelOf, versions } = options;
  const groups: HttpSdTargetGroup[] = [];
  for (const deploymentId of runtime.listOnline()) {
    const modelRef = await modelOf(deploymentId);
    if (!modelRef) continue;
    const { namespace, name } = parseEntityRef(modelRef);
    for (const target of targetsOf(runtime, deploymentId)) {
      groups.push({
        targets: [target.address],
        labels: {
          __metrics_path__: target.metricsPath ?? '/metrics',
          __scheme__: target.scheme ?? 'http',
          namespace,
          model: name,
          version: String(await versions.get(target.buildId)),
          deployment: deploymentId,
          replica: target.replicaId,
        },
      });
    }
  }
  return groups;
}
