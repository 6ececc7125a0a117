import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Grid from '@material-ui/core/Grid';
import useAsync from 'react-use/esm/useAsync';
import { mlPlatformApiRef } from '../../api';
import { useModelRef, usePolledAsync } from '../../hooks';
import { inputFieldsOf, interfaceOf } from '../../lib/manifest';
import { HealthCard } from '../Monitoring';
import { EndpointsCard } from './EndpointsCard';
import { LatestBuildCard } from './LatestBuildCard';
import { LiveDeploymentCard } from './LiveDeploymentCard';
import { RunningExecutionsCard } from './RunningExecutionsCard';

/** The model at a glance: what serves, what was built last, what runs. */
export function OverviewTab() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const model = usePolledAsync(() => api.getModel(ref), [api, ref]);
  const executions = usePolledAsync(() => api.listExecutions(ref), [api, ref]);
  const live = model.value?.platform.liveDeployment;
  const latest = model.value?.platform.latestBuild;
  // The live build's version and manifest (its input schema).
  const liveBuild = useAsync(async () => {
    if (!live) return undefined;
    return latest?.id === live.buildId ? latest : api.getBuild(live.buildId);
    // Only a different build needs another look.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, live?.buildId]);

  if (model.loading) {
    return <Progress />;
  }
  if (!model.value) {
    return (
      <ResponseErrorPanel error={model.error ?? new Error('No such model')} />
    );
  }
  // The schema of the build that answers, else of the newest one.
  const schemaBuild = inputFieldsOf(liveBuild.value) ? liveBuild.value : latest;
  return (
    <Grid container spacing={3} alignItems="stretch">
      <Grid item xs={12} md={6}>
        <LiveDeploymentCard deployment={live} build={liveBuild.value} />
      </Grid>
      <Grid item xs={12} md={6}>
        <LatestBuildCard build={latest} />
      </Grid>
      <Grid item xs={12} md={6}>
        <HealthCard />
      </Grid>
      <Grid item xs={12} md={6}>
        <EndpointsCard
          modelRef={ref}
          fields={inputFieldsOf(schemaBuild)}
          modelInterface={interfaceOf(schemaBuild)}
        />
      </Grid>
      <Grid item xs={12} md={6}>
        <RunningExecutionsCard
          executions={executions.value}
          error={executions.error}
        />
      </Grid>
    </Grid>
  );
}
