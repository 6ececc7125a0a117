import { InfoCard, ResponseErrorPanel } from '@backstage/core-components';
import { BatchExecution } from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { useSectionLink } from '../../hooks';
import { formatTime } from '../../lib/format';
import { ExecutionProgress } from '../ExecutionProgress';
import { StatusChip } from '../StatusChip';

/** Batch executions still pending or running, with their progress. */
export function RunningExecutionsCard(props: {
  executions?: BatchExecution[];
  error?: Error;
}) {
  const batchLink = useSectionLink()({ tab: 'batch' });
  const running = (props.executions ?? []).filter(
    e => e.status === 'pending' || e.status === 'running',
  );
  let content;
  if (!props.executions && props.error) {
    content = <ResponseErrorPanel error={props.error} />;
  } else if (!running.length) {
    content = <Typography>No execution is running.</Typography>;
  } else {
    content = running.map(e => (
      <Box key={e.id} mb={2}>
        <Typography variant="body2" component="div">
          <StatusChip status={e.status} /> started {formatTime(e.createdAt)}
        </Typography>
        <ExecutionProgress execution={e} />
      </Box>
    ));
  }
  return (
    <InfoCard
      title={`Running executions (${running.length})`}
      deepLink={{ title: 'All executions', link: batchLink }}
    >
      {content}
    </InfoCard>
  );
}
