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
import { mlPlatformApiRef } from '../../api';
import {
  cliExample,
  curlExample,
  matrixInputs,
  recordsExample,
  sdkExample,
  v2Example,
} from '../../lib/examples';

/** A titled, copyable snippet: a curl, a Python call, an `mlp` command. */
function Snippet(props: {
  title: string;
  /** The line next to the copy button, e.g. `POST <url>`. */
  summary?: string;
  code: string;
  copied: string;
  copyLabel: string;
}) {
  return (
    <Box mb={2}>
      <Box display="flex" alignItems="center">
        <Box flex={1}>
          <Typography variant="subtitle2">{props.title}</Typography>
          {props.summary && (
            <Typography variant="body2" component="code">
              {props.summary}
            </Typography>
          )}
        </Box>
        <CopyTextButton
          text={props.code}
          tooltipText={props.copied}
          aria-label={props.copyLabel}
        />
      </Box>
      <Typography
        variant="caption"
        component="pre"
        style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}
      >
        {props.code}
      </Typography>
    </Box>
  );
}

function Endpoint(props: { title: string; url: string; curl: string }) {
  return (
    <Snippet
      title={props.title}
      summary={`POST ${props.url}`}
      code={props.curl}
      copied="curl command copied"
      copyLabel={`Copy curl for ${props.title}`}
    />
  );
}

/**
 * How others call the model: the records endpoint and the Open Inference
 * Protocol one, as absolute URLs with a ready-to-paste curl, and the same
 * prediction from the Python SDK and the `mlp` command line.
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
  const api = useApi(mlPlatformApiRef);
  const { value: baseUrl, error } = useAsync(
    () => discovery.getBaseUrl('ml-platform'),
    [discovery],
  );
  // The native data plane's origin, when it runs and this browser's host can
  // reach it; without it (or on an error) the portal's URLs are shown.
  const { value: dataPlaneUrl, loading: gatewayLoading } = useAsync(
    async () => (await api.getGateway()).nativeDataPlane.url,
    [api],
  );
  let content;
  if (error) {
    content = <ResponseErrorPanel error={error} />;
  } else if (!baseUrl || gatewayLoading) {
    content = <Progress />;
  } else {
    const ns = encodeURIComponent(modelRef.namespace);
    const name = encodeURIComponent(modelRef.name);
    const invokeBase = dataPlaneUrl
      ? `${dataPlaneUrl}/api/ml-platform`
      : baseUrl;
    const predictUrl = `${invokeBase}/models/${ns}/${name}/predict`;
    const inferUrl = `${invokeBase}/v2/models/${name}/infer`;
    // What the clients take: the portal, and the model as name or ns/name.
    const portalUrl = baseUrl.replace(/\/api\/ml-platform\/?$/, '');
    const model =
      modelRef.namespace === 'default'
        ? modelRef.name
        : `${modelRef.namespace}/${modelRef.name}`;
    content = (
      <>
        {dataPlaneUrl && (
          <Typography variant="body2" color="textSecondary" paragraph>
            Served by the platform's native data plane at{' '}
            <code>{dataPlaneUrl}</code>, at less cost per call; the portal's{' '}
            <code>{baseUrl}</code> answers the same calls alike.
          </Typography>
        )}
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
        <Snippet
          title="Python SDK (ml_platform)"
          code={sdkExample(portalUrl, model, fields)}
          copied="Python example copied"
          copyLabel="Copy Python SDK example"
        />
        <Snippet
          title="Command line (mlp)"
          code={cliExample(model, fields)}
          copied="mlp command copied"
          copyLabel="Copy mlp command"
        />
        <Typography variant="body2" color="textSecondary">
          Services call these with a Backstage service token (
          <code>backend.auth.externalAccess</code>). The records endpoint also
          takes <code>dataframe_split</code>, <code>instances</code> and{' '}
          <code>inputs</code> bodies. The SDK and <code>mlp</code> use{' '}
          <code>MLP_URL</code> and <code>MLP_TOKEN</code>, or what{' '}
          <code>mlp login</code> stored; the SDK also takes and returns pandas
          DataFrames, and sends its predictions to the native data plane when it
          can reach it.
        </Typography>
      </>
    );
  }
  return <InfoCard title="Endpoints">{content}</InfoCard>;
}
