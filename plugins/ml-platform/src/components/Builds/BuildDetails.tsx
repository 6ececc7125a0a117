import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  WarningPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { Decision, POLL_INTERVAL_MS, usePolledAsync } from '../../hooks';
import {
  buildDurationMs,
  formatDuration,
  formatTime,
  isBuildFinished,
} from '../../lib/format';
import { ActionButton } from '../ActionButton';
import { CommitLink } from '../CommitLink';
import { StatusChip } from '../StatusChip';
import { BuildLog } from './BuildLog';
import { BuildSteps } from './BuildSteps';

/** One build: what it is, its steps, its log, and Cancel while it runs. */
export function BuildDetails(props: {
  buildId: string;
  /** May the user cancel it. */
  canCancel: Decision;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { buildId, canCancel, onClose, onChanged } = props;
  const api = useApi(mlPlatformApiRef);
  const {
    value: build,
    error,
    loading,
    refresh,
  } = usePolledAsync(
    () => api.getBuild(buildId),
    [api, buildId],
    b => (b && isBuildFinished(b) ? null : POLL_INTERVAL_MS),
  );
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<Error>();

  if (loading) {
    return <Progress />;
  }
  if (!build) {
    return <ResponseErrorPanel error={error ?? new Error('No such build')} />;
  }

  const cancel = async () => {
    setCancelling(true);
    setCancelError(undefined);
    try {
      await api.cancelBuild(build.id);
      await refresh();
      onChanged();
    } catch (e) {
      setCancelError(e as Error);
    } finally {
      setCancelling(false);
    }
  };

  const duration = buildDurationMs(build);
  const cancellable = build.status === 'queued' || build.status === 'running';
  return (
    <InfoCard
      title={`Build v${build.version}`}
      subheader={
        // InfoCard lays the subheader out as a flex row, which drops the
        // spaces between its children: keep the line in one inline box.
        <span>
          <StatusChip status={build.status} />
          {build.branch && ` on ${build.branch}`}
          {(build.commitSha || build.commitMessage) && ' · '}
          <CommitLink sha={build.commitSha} message={build.commitMessage} />
          {build.commitSha && build.commitMessage && ' '}
          {build.commitMessage}
        </span>
      }
      action={
        <Box display="flex" alignItems="center" mt={1}>
          {cancellable && (
            <ActionButton
              decision={canCancel}
              disabledReason={cancelling ? 'Cancelling…' : undefined}
              color="secondary"
              onClick={cancel}
            >
              Cancel build
            </ActionButton>
          )}
          <Button onClick={onClose}>Close</Button>
        </Box>
      }
    >
      <Typography variant="body2" color="textSecondary" paragraph>
        Requested {formatTime(build.createdAt)} by {build.trigger}
        {build.triggerSource ? ` (${build.triggerSource})` : ''}
        {duration !== undefined && `; ran ${formatDuration(duration)}`}
        {build.artifactDigest && `; artifact ${build.artifactDigest}`}
      </Typography>
      {build.failureReason && (
        <WarningPanel defaultExpanded severity="error" title="Build failed">
          {build.failureReason}
        </WarningPanel>
      )}
      {cancelError && <ResponseErrorPanel error={cancelError} />}
      {build.steps.length > 0 && <BuildSteps steps={build.steps} />}
      <Box mt={2}>
        <Typography variant="h6" gutterBottom>
          Log
        </Typography>
        <BuildLog buildId={build.id} />
      </Box>
    </InfoCard>
  );
}
