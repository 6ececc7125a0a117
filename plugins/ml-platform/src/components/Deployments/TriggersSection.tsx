import {
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  DeadLetter,
  ModelDeployment,
  ModelSubscription,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import {
  Decision,
  useModelPermissions,
  useModelRef,
  usePolledAsync,
} from '../../hooks';
import { formatTime } from '../../lib/format';
import { ActionButton } from '../ActionButton';
import { FormDialog } from '../FormDialog';

const EXAMPLE_MAPPING = `{
  "columns": {
    "tenure_months": "$.customer.tenure"
  }
}`;

function parseJson(text: string, field: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${field}: not valid JSON`);
  }
}

/** Subscribes an online deployment to a topic. */
function SubscribeDialog(props: {
  deployments: ModelDeployment[];
  onClose: () => void;
  onCreated: () => void;
}) {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const [deploymentId, setDeploymentId] = useState(
    props.deployments[0]?.id ?? '',
  );
  const [topic, setTopic] = useState('');
  const [filter, setFilter] = useState('');
  const [mapping, setMapping] = useState(EXAMPLE_MAPPING);
  const [outputTopic, setOutputTopic] = useState('');
  return (
    <FormDialog
      title="Subscribe to events"
      submitLabel="Subscribe"
      submitDisabled={!deploymentId || !topic}
      onClose={props.onClose}
      onSubmit={async () => {
        await api.createSubscription(ref, {
          deploymentId,
          topic,
          filter: parseJson(filter, 'Filter') as any,
          mapping: parseJson(mapping, 'Mapping') as any,
          outputTopic: outputTopic || undefined,
        });
        props.onCreated();
        props.onClose();
      }}
    >
      <TextField
        select
        fullWidth
        margin="dense"
        id="ml-platform-subscribe-deployment"
        label="Deployment"
        value={deploymentId}
        onChange={e => setDeploymentId(e.target.value)}
      >
        {props.deployments.map(d => (
          <MenuItem key={d.id} value={d.id}>
            {d.id}
          </MenuItem>
        ))}
      </TextField>
      <TextField
        fullWidth
        margin="dense"
        id="ml-platform-subscribe-topic"
        label="Topic"
        placeholder="orders"
        value={topic}
        onChange={e => setTopic(e.target.value)}
        helperText="An events-service topic (HTTP ingress, Kafka, ...)"
      />
      <TextField
        fullWidth
        multiline
        margin="dense"
        id="ml-platform-subscribe-filter-json-optional"
        label="Filter (JSON, optional)"
        placeholder='{"path": "$.type", "equals": "order"}'
        value={filter}
        onChange={e => setFilter(e.target.value)}
      />
      <TextField
        fullWidth
        multiline
        margin="dense"
        id="ml-platform-subscribe-mapping-json"
        label="Mapping (JSON)"
        value={mapping}
        onChange={e => setMapping(e.target.value)}
        helperText='Input columns to JSONPaths; "rows": "$.items" for one row per element'
      />
      <TextField
        fullWidth
        margin="dense"
        id="ml-platform-subscribe-output-topic-optional"
        label="Output topic (optional)"
        placeholder={`ml-platform.prediction.${ref.name}`}
        value={outputTopic}
        onChange={e => setOutputTopic(e.target.value)}
      />
    </FormDialog>
  );
}

/** A subscription's dead letters, each with its reason and a retry. */
function DeadLetters(props: {
  subscription: ModelSubscription;
  canRetry?: Decision;
  onClose: () => void;
}) {
  const api = useApi(mlPlatformApiRef);
  const letters = usePolledAsync(
    () => api.listDeadLetters(props.subscription.id),
    [api, props.subscription.id],
  );
  const [error, setError] = useState<Error>();
  const columns: TableColumn<DeadLetter>[] = [
    { title: 'Event', field: 'eventId' },
    { title: 'Failed', render: l => formatTime(l.failedAt) },
    { title: 'Attempts', field: 'attempts' },
    { title: 'Reason', field: 'reason' },
    {
      title: '',
      render: l => (
        <ActionButton
          decision={props.canRetry}
          size="small"
          onClick={async () => {
            try {
              await api.retryDeadLetter(props.subscription.id, l.id);
              await letters.refresh();
            } catch (e) {
              setError(e as Error);
            }
          }}
        >
          Retry
        </ActionButton>
      ),
    },
  ];
  return (
    <FormDialog
      title={`Dead letters of ${props.subscription.topic}`}
      onClose={props.onClose}
      maxWidth="lg"
    >
      {(error ?? letters.error) && (
        <ResponseErrorPanel error={(error ?? letters.error)!} />
      )}
      <Table<DeadLetter>
        columns={columns}
        data={letters.value ?? []}
        isLoading={letters.loading}
        options={{ paging: false, search: false, toolbar: false }}
        localization={{
          body: { emptyDataSourceMessage: 'No dead letters' },
        }}
      />
    </FormDialog>
  );
}

/**
 * The Triggers section of the Deployments tab: the model's event
 * subscriptions with their counters, subscribing, pausing, removing, and
 * the dead letters with a retry button.
 */
export function TriggersSection(props: { deployments: ModelDeployment[] }) {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const permissions = useModelPermissions(ref);
  const subscriptions = usePolledAsync(
    () => api.listSubscriptions(ref),
    [api, ref],
  );
  const [creating, setCreating] = useState(false);
  const [letters, setLetters] = useState<ModelSubscription>();
  const [error, setError] = useState<Error>();
  const online = props.deployments.filter(d => d.type === 'online');
  const change = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setError(undefined);
      await subscriptions.refresh();
    } catch (e) {
      setError(e as Error);
    }
  };

  const columns: TableColumn<ModelSubscription>[] = [
    { title: 'Topic', field: 'topic' },
    { title: 'Output topic', field: 'outputTopic' },
    { title: 'Deployment', field: 'deploymentId' },
    { title: 'Received', render: s => s.counters.received },
    { title: 'Filtered', render: s => s.counters.filtered },
    { title: 'Predicted', render: s => s.counters.predicted },
    { title: 'Failed', render: s => s.counters.failed },
    { title: 'Lag', render: s => `${s.counters.lagSeconds.toFixed(1)} s` },
    {
      title: '',
      render: s => (
        <Box display="flex">
          <Button size="small" onClick={() => setLetters(s)}>
            Dead letters
          </Button>
          <ActionButton
            size="small"
            decision={permissions.updateDeployment}
            onClick={() =>
              change(() =>
                api.updateSubscription(s.id, { enabled: !s.enabled }),
              )
            }
          >
            {s.enabled ? 'Pause' : 'Resume'}
          </ActionButton>
          <ActionButton
            size="small"
            color="secondary"
            decision={permissions.updateDeployment}
            onClick={() => change(() => api.deleteSubscription(s.id))}
          >
            Remove
          </ActionButton>
        </Box>
      ),
    },
  ];

  return (
    <Box mt={3}>
      <Box display="flex" alignItems="center" mb={1}>
        <Typography variant="h6">Triggers</Typography>
        <Box flexGrow={1} />
        <ActionButton
          decision={permissions.updateDeployment}
          disabledReason={
            online.length === 0 ? 'Deploy the model online first' : undefined
          }
          onClick={() => setCreating(true)}
        >
          Subscribe to events
        </ActionButton>
      </Box>
      {(error ?? subscriptions.error) && (
        <ResponseErrorPanel error={(error ?? subscriptions.error)!} />
      )}
      {subscriptions.value?.length ? (
        <Table<ModelSubscription>
          columns={columns}
          data={subscriptions.value}
          options={{
            paging: false,
            search: false,
            toolbar: false,
            padding: 'dense',
          }}
        />
      ) : (
        !subscriptions.loading && (
          <Typography variant="body2" color="textSecondary">
            No triggers: subscribe the online deployment to an events topic so
            events are predicted as they arrive.
          </Typography>
        )
      )}
      {creating && (
        <SubscribeDialog
          deployments={online}
          onClose={() => setCreating(false)}
          onCreated={() => subscriptions.refresh()}
        />
      )}
      {letters && (
        <DeadLetters
          subscription={letters}
          canRetry={permissions.updateDeployment}
          onClose={() => setLetters(undefined)}
        />
      )}
    </Box>
  );
}
