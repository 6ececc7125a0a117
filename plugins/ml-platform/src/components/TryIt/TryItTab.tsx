import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  WarningPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import useAsync from 'react-use/esm/useAsync';
import { mlPlatformApiRef } from '../../api';
import { useModelRef } from '../../hooks';
import { inputFieldsOf, interfaceOf } from '../../lib/manifest';
import { PredictPanel } from './PredictPanel';

/** Calls the live online deployment with one record. */
export function TryItTab() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const { value, loading, error } = useAsync(async () => {
    const model = await api.getModel(ref);
    // The schema of the build that answers, else of the newest one.
    const buildId =
      model.platform.liveDeployment?.buildId ?? model.platform.latestBuild?.id;
    const build = buildId ? await api.getBuild(buildId) : undefined;
    return { model, build };
  }, [api, ref]);

  if (loading) {
    return <Progress />;
  }
  if (error || !value) {
    return <ResponseErrorPanel error={error ?? new Error('No such model')} />;
  }
  const live = value.model.platform.liveDeployment;
  return (
    <InfoCard
      title="Try it"
      subheader={
        value.build
          ? `Input schema of build v${value.build.version}`
          : 'The model has no build yet'
      }
    >
      {!live && (
        <WarningPanel
          defaultExpanded
          severity="info"
          title="No online deployment"
          message="Predictions answer 503 until a build is deployed online."
        />
      )}
      <PredictPanel
        modelRef={ref}
        fields={inputFieldsOf(value.build)}
        modelInterface={interfaceOf(value.build)}
      />
    </InfoCard>
  );
}
