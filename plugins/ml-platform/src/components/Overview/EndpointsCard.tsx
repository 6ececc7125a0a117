import {
  CopyTextButton,
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { discoveryApiRef, useApi } from '@backstage/core-plugin-api';
import {
  ManifestField,
  ModelInterface,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import {
  curlExample,
  recordsExample,
  matrixInputs,
  v2Example,
} from '../../lib/examples';

function Endpoint(props: { title: string; url: string; curl: string }) {
  return (
    <Box mb={2}>
      <Typography variant="subtitle2">{props.title}</Typography>
      <Box display="flex" alignItems="center">
        <Typography variant="body2" component="code" style={{ flex: 1 }}>
          POST {props.url}
        </Typography>
        <CopyTextButton
          text={props.curl}
          tooltipText="curl command copied"
          aria-label={`Copy curl for ${props.title}`}
        />
      </Box>
      <Typography
        variant="caption"
        component="pre"
        style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
      >
        {props.curl}
      </Typography>
    </Box>
  );
}

/**
 * How other services call the model: the records endpoint and the Open
 * Inference Protocol one, as absolute URLs with a ready-to-paste curl.
 */
export function EndpointsCard(props: {
  modelRef: ModelRef;
  fields?: ManifestField[];
  /** `spec.interface`: ndarray models are shown the single-tensor V2 form. */
  modelInterface?: ModelInterface;
}) {
  const { modelRef, fields, modelInterface } = props;
  const columns = matrixInputs(fields, modelInterface);
  const discovery = useApi(discoveryApiRef);
  const { value: baseUrl, error } = useAsync(
    () => discovery.getBaseUrl('ml-platform'),
    [discovery],
  );
  let content;
  if (error) {
    content = <ResponseErrorPanel error={error} />;
  } else if (!baseUrl) {
    content = <Progress />;
  } else {
    const ns = encodeURIComponent(modelRef.namespace);
    const name = encodeURIComponent(modelRef.name);
    const predictUrl = `${baseUrl}/models/${ns}/${name}/predict`;
    const inferUrl = `${baseUrl}/v2/models/${name}/infer`;
    content = (
      <>
        <Endpoint
          title="Records (MLflow scoring)"
          url={predictUrl}
          curl={curlExample(predictUrl, recordsExample(fields))}
        />
        <Endpoint
          title="Open Inference Protocol (KServe V2)"
          url={inferUrl}
          curl={curlExample(inferUrl, v2Example(fields, modelInterface))}
        />
        {columns && (
          <Typography variant="body2" color="textSecondary" paragraph>
            This model takes a 2-D array: send every input as one{' '}
            <code>[N, {columns.length}]</code> tensor, columns in this order:{' '}
            {columns.map(f => f.name).join(', ')}. One tensor per input works
            too.
          </Typography>
        )}
        <Typography variant="body2" color="textSecondary">
          Services call these with a Backstage service token (
          <code>backend.auth.externalAccess</code>). The records endpoint also
          takes <code>dataframe_split</code>, <code>instances</code> and{' '}
          <code>inputs</code> bodies.
        </Typography>
      </>
    );
  }
  return <InfoCard title="Endpoints">{content}</InfoCard>;
}
