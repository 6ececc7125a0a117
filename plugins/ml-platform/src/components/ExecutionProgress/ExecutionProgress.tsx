import { BatchExecution } from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import LinearProgress from '@material-ui/core/LinearProgress';
import Typography from '@material-ui/core/Typography';
import { formatCount, formatDuration, formatRate } from '../../lib/format';

const active = (e: BatchExecution) =>
  e.status === 'pending' || e.status === 'running';

/** Rows done of the total as a bar, with the rate and the time left. */
export function ExecutionProgress(props: { execution: BatchExecution }) {
  const e = props.execution;
  const percent =
    e.rowsTotal !== undefined && e.rowsTotal > 0
      ? Math.min(100, (e.rowsDone / e.rowsTotal) * 100)
      : undefined;
  const facts = [
    e.rowsTotal !== undefined
      ? `${formatCount(e.rowsDone)} / ${formatCount(e.rowsTotal)} rows`
      : `${formatCount(e.rowsDone)} rows`,
  ];
  if (e.chunksTotal !== undefined) {
    facts.push(`${e.chunksDone}/${e.chunksTotal} chunks`);
  }
  if (active(e) && e.rowsPerSecond !== undefined) {
    facts.push(formatRate(e.rowsPerSecond));
  }
  if (active(e) && e.etaSeconds !== undefined) {
    facts.push(`ETA ${formatDuration(e.etaSeconds * 1000)}`);
  }
  return (
    <Box minWidth={200}>
      <LinearProgress
        variant={
          percent === undefined && active(e) ? 'indeterminate' : 'determinate'
        }
        value={percent ?? (e.status === 'succeeded' ? 100 : 0)}
        color={e.status === 'failed' ? 'secondary' : 'primary'}
        aria-label={`Progress of execution ${e.id}`}
      />
      <Typography variant="caption" component="div">
        {facts.join(' · ')}
      </Typography>
      {(e.rowsFailed > 0 || e.chunksFailed > 0) && (
        <Typography variant="caption" color="error" component="div">
          {formatCount(e.rowsFailed)} rows in {e.chunksFailed} chunks failed
        </Typography>
      )}
    </Box>
  );
}
