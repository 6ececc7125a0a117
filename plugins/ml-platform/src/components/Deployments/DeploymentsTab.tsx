import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Grid from '@material-ui/core/Grid';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import {
  useBuilds,
  useModelPermissions,
  useModelRef,
  usePolledAsync,
} from '../../hooks';
import { ActionButton } from '../ActionButton';
import { TabContent } from '../TabContent';
import { DeployDialog } from './DeployDialog';
import { DeploymentCard } from './DeploymentCard';
import { TriggersSection } from './TriggersSection';

// Online first: it is the one serving predictions.
const typeOrder = { online: 0, batch: 1 };

/** The model's online and batch deployments, and deploying a build. */
export function DeploymentsTab() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const permissions = useModelPermissions(ref);
  const builds = useBuilds(ref);
  const deployments = usePolledAsync(
    () => api.listDeployments(ref),
    [api, ref],
  );
  const [deployOpen, setDeployOpen] = useState(false);

  if (deployments.loading || builds.loading) {
    return <Progress />;
  }
  if (!deployments.value) {
    return (
      <ResponseErrorPanel
        error={deployments.error ?? new Error('No deployments')}
      />
    );
  }

  const succeeded = (builds.value?.items ?? []).filter(
    b => b.status === 'succeeded',
  );
  const list = [...deployments.value].sort(
    (a, b) => typeOrder[a.type] - typeOrder[b.type],
  );
  let notDeployable: string | undefined;
  if (builds.error && !builds.value) {
    notDeployable = `Could not list builds: ${builds.error.message}`;
  } else if (!succeeded.length) {
    notDeployable = 'No succeeded build to deploy yet';
  } else if (
    list.some(d => d.type === 'online') &&
    list.some(d => d.type === 'batch')
  ) {
    notDeployable =
      'The model has an online and a batch deployment; roll out another build instead';
  }
  const deployButton = (
    <ActionButton
      decision={permissions.deploy}
      disabledReason={notDeployable}
      variant="contained"
      color="primary"
      onClick={() => setDeployOpen(true)}
    >
      Deploy
    </ActionButton>
  );

  return (
    <>
      <TabContent
        action={deployButton}
        empty={list.length === 0}
        emptyState={{
          missing: 'content',
          title: 'Not deployed',
          description:
            'Deploy a succeeded build online, to answer predictions, or as a batch model, to score whole datasets.',
        }}
      >
        <Grid container spacing={3}>
          {list.map(d => (
            <Grid item xs={12} key={d.id}>
              <DeploymentCard
                deployment={d}
                builds={builds.value?.items}
                canUpdate={permissions.updateDeployment}
                canDelete={permissions.deleteDeployment}
                onChanged={deployments.refresh}
              />
            </Grid>
          ))}
        </Grid>
        <TriggersSection deployments={list} />
      </TabContent>
      {deployOpen && (
        <DeployDialog
          open
          modelRef={ref}
          builds={succeeded}
          deployments={list}
          onClose={() => setDeployOpen(false)}
          onCreated={() => deployments.refresh()}
        />
      )}
    </>
  );
}
