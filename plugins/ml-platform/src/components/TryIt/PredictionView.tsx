import { PredictionResult } from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import { WarningPanel } from '@backstage/core-components';
import { errorMessageOf } from '../../lib/format';
import { StatusChip } from '../StatusChip';

/** What the model answered: HTTP status, latency and body. */
export function PredictionView(props: { result: PredictionResult }) {
  const { status, body, latencyMs } = props.result;
  const ok = status >= 200 && status < 300;
  const pretty =
    typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  return (
    <Box mt={3}>
      <Typography variant="h6" component="div" aria-label="Prediction status">
        <StatusChip
          status={ok ? 'succeeded' : 'failed'}
          label={`HTTP ${status}`}
        />{' '}
        · {Math.round(latencyMs)} ms
      </Typography>
      {!ok && (
        <WarningPanel
          defaultExpanded
          severity="error"
          title={`The model answered ${status}`}
          message={errorMessageOf(body) ?? 'No message'}
        />
      )}
      <Typography
        component="pre"
        variant="body2"
        aria-label="Response body"
        style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}
      >
        {pretty}
      </Typography>
    </Box>
  );
}
