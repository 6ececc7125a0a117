import { ModelPlatformState } from '@internal/plugin-ml-platform-common';
import { PlatformStores } from '../database';

/**
 * The platform state of each of `refs`, from each aggregate's store; refs
 * the platform never saw (no registration, no build) are absent.
 */
export async function readModelStates(
  stores: Pick<
    PlatformStores,
    'models' | 'builds' | 'deployments' | 'executions'
  >,
  refs: string[],
): Promise<Map<string, ModelPlatformState>> {
  const states = new Map<string, ModelPlatformState>();
  if (refs.length === 0) return states;
  const [known, latest, live, running] = await Promise.all([
    stores.models.listKnownRefs(refs),
    stores.builds.getLatestBuilds(refs),
    stores.deployments.getLiveOnlineDeployments(refs),
    stores.executions.countActiveExecutions(refs),
  ]);
  const state = (ref: string) => {
    let s = states.get(ref);
    if (!s) {
      s = { registered: true, runningExecutions: 0 };
      states.set(ref, s);
    }
    return s;
  };
  known.forEach(ref => state(ref));
  latest.forEach((build, ref) => {
    state(ref).latestBuild = build;
  });
  live.forEach((deployment, ref) => {
    state(ref).liveDeployment = deployment;
  });
  running.forEach((n, ref) => {
    state(ref).runningExecutions = n;
  });
  return states;
}
