import { LogViewer, ResponseErrorPanel } from '@backstage/core-components';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { useBuildLog } from '../../hooks';

// The codes LogViewer's ANSI processor knows (it has no reset-all `0m`).
const BOLD = '\u001b[1m';
const NOT_BOLD = '\u001b[22m';

/**
 * The build's log, growing while the build runs; the viewer keeps the last
 * line in view. A bold header marks where each step begins.
 */
export function BuildLog(props: { buildId: string }) {
  const { lines, finished, error } = useBuildLog(props.buildId);
  if (!lines.length) {
    if (error) {
      return <ResponseErrorPanel error={error} />;
    }
    return (
      <Typography variant="body2" color="textSecondary">
        {finished ? 'The build wrote no log.' : 'Waiting for log lines…'}
      </Typography>
    );
  }
  const text: string[] = [];
  let step: string | undefined;
  for (const line of lines) {
    if (line.step && line.step !== step) {
      step = line.step;
      text.push(`${BOLD}== ${step} ==${NOT_BOLD}`);
    }
    text.push(line.line);
  }
  return (
    <Box height={400} data-testid="build-log">
      <LogViewer text={text.join('\n')} />
    </Box>
  );
}
