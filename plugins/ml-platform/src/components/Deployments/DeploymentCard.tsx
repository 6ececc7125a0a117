import { InfoCard, StructuredMetadataTable } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ModelBuild,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { Decision } from '../../hooks';
import { buildLabel, formatTime } from '../../lib/format';
import { ActionButton } from '../ActionButton';
import { ConfirmDialog } from '../ConfirmDialog';
import { StatusChip } from '../StatusChip';
import { ChangeBuildDialog } from './ChangeBuildDialog';
import { DeploymentLogs } from './DeploymentLogs';
import { ReplicaTable } from './ReplicaTable';
import { ScaleDialog } from './ScaleDialog';

type OpenDialog = 'scale' | 'rollout' | 'rollback' | 'undeploy';

function details(d: ModelDeployment, builds: ModelBuild[] | undefined) {
  const build = { Build: buildLabel(d.buildId, builds) };
  if (d.type === 'batch') {
    return {
      ...build,
      'Chunk size': d.batch ? `${d.batch.chunkSize} rows` : 'default',
      Parallelism: d.batch?.parallelism ?? 'default',
      Retries: d.batch?.maxRetries ?? 'default',
      Schedule: d.batch?.schedule ?? 'on demand only',
    };
  }
  return {
    ...build,
    Replicas: `${d.readyReplicas}/${d.replicas} ready`,
    Autoscaling: `${d.minReplicas} to ${d.maxReplicas}${
      d.minReplicas === 0 ? ' (scales to zero when idle)' : ''
    }`,
    ...(d.scaledToZeroAt
      ? { 'Scaled to zero': formatTime(d.scaledToZeroAt) }
      : {}),
    Updated: formatTime(d.updatedAt),
  };
}

/**
 * One deployment: its state and replicas, and the actions on it (scale, roll
 * out, roll back, undeploy, logs).
 */
export function DeploymentCard(props: {
  deployment: ModelDeployment;
  builds: ModelBuild[] | undefined;
  /** May the user scale, roll out or roll back. */
  canUpdate: Decision;
  /** May the user undeploy. */
  canDelete: Decision;
  onChanged: () => void;
}) {
  const { deployment, builds, canUpdate, canDelete, onChanged } = props;
  const api = useApi(mlPlatformApiRef);
  const [dialog, setDialog] = useState<OpenDialog>();
  const [showLogs, setShowLogs] = useState(false);
  const close = () => setDialog(undefined);

  const succeeded = (builds ?? []).filter(
    b => b.status === 'succeeded' && b.id !== deployment.buildId,
  );
  const current = builds?.find(b => b.id === deployment.buildId);
  const newer = current
    ? succeeded.filter(b => b.version > current.version)
    : succeeded;
  const earlier = current
    ? succeeded.filter(b => b.version < current.version)
    : [];

  return (
    <InfoCard
      title={`${deployment.type === 'online' ? 'Online' : 'Batch'} deployment`}
      subheader={
        // InfoCard lays the subheader out as a flex row, which drops the
        // spaces between its children: keep the line in one inline box.
        <span>
          <StatusChip status={deployment.status} />
          {deployment.reason && (
            <>
              {' · '}
              <Typography variant="body2" component="span">
                {deployment.reason}
              </Typography>
            </>
          )}
        </span>
      }
    >
      <StructuredMetadataTable metadata={details(deployment, builds)} />
      {!!deployment.replicaStatus?.length && (
        <Box mt={2}>
          <ReplicaTable replicas={deployment.replicaStatus} builds={builds} />
        </Box>
      )}
      <Box mt={2} display="flex" flexWrap="wrap" style={{ gap: 8 }}>
        {deployment.type === 'online' && (
          <ActionButton
            decision={canUpdate}
            variant="outlined"
            onClick={() => setDialog('scale')}
          >
            Scale
          </ActionButton>
        )}
        <ActionButton
          decision={canUpdate}
          disabledReason={
            newer.length ? undefined : 'No newer succeeded build to roll out'
          }
          variant="outlined"
          onClick={() => setDialog('rollout')}
        >
          Roll out
        </ActionButton>
        <ActionButton
          decision={canUpdate}
          disabledReason={
            earlier.length
              ? undefined
              : 'No earlier succeeded build to roll back to'
          }
          variant="outlined"
          onClick={() => setDialog('rollback')}
        >
          Roll back
        </ActionButton>
        <ActionButton
          decision={canDelete}
          variant="outlined"
          color="secondary"
          onClick={() => setDialog('undeploy')}
        >
          Undeploy
        </ActionButton>
        <Button onClick={() => setShowLogs(s => !s)}>
          {showLogs ? 'Hide logs' : 'Logs'}
        </Button>
      </Box>
      {showLogs && (
        <Box mt={2}>
          <DeploymentLogs deploymentId={deployment.id} />
        </Box>
      )}
      {dialog === 'scale' && (
        <ScaleDialog
          deployment={deployment}
          onClose={close}
          onChanged={onChanged}
        />
      )}
      {(dialog === 'rollout' || dialog === 'rollback') && (
        <ChangeBuildDialog
          mode={dialog}
          deployment={deployment}
          builds={dialog === 'rollout' ? newer : earlier}
          allBuilds={builds ?? []}
          onClose={close}
          onChanged={onChanged}
        />
      )}
      <ConfirmDialog
        open={dialog === 'undeploy'}
        title={`Undeploy the ${deployment.type} deployment?`}
        confirmLabel="Undeploy"
        onClose={close}
        onConfirm={async () => {
          await api.deleteDeployment(deployment.id);
          onChanged();
        }}
      >
        {deployment.type === 'online'
          ? 'Its replicas stop and predictions fail until the model is deployed again.'
          : 'Scheduled executions stop; running executions are not affected.'}
      </ConfirmDialog>
    </InfoCard>
  );
}
