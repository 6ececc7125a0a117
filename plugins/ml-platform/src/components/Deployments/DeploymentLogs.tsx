import { LogViewer, ResponseErrorPanel } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { useDeploymentLogs } from '../../hooks';

// The codes LogViewer's ANSI processor knows (it has no reset-all `0m`).
const RED = '\u001b[31m';
const GREY = '\u001b[90m';
const DEFAULT_COLOR = '\u001b[39m';

/** The replicas' output and the runtime's events, following new lines. */
export function DeploymentLogs(props: { deploymentId: string }) {
  const { lines, error } = useDeploymentLogs(props.deploymentId);
  if (!lines.length) {
    return error ? (
      <ResponseErrorPanel error={error} />
    ) : (
      <Typography variant="body2" color="textSecondary">
        No log lines yet.
      </Typography>
    );
  }
  const text = lines
    .map(l => {
      const replica = l.replica ? ` [${l.replica}]` : '';
      const prefix = `${GREY}${l.time}${replica}${DEFAULT_COLOR} `;
      return l.stream === 'stderr'
        ? `${prefix}${RED}${l.line}${DEFAULT_COLOR}`
        : `${prefix}${l.line}`;
    })
    .join('\n');
  return (
    <Box height={360} data-testid="deployment-logs">
      <LogViewer text={text} />
    </Box>
  );
}
