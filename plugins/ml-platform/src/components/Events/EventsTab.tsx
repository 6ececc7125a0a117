import {
  CodeSnippet,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  PredictionEvent,
  PredictionEventQuery,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useCallback, useEffect, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { useModelRef } from '../../hooks';
import { formatTime } from '../../lib/format';
import { FormDialog } from '../FormDialog';
import { Principal } from '../Principal';

/** Events per page; the API serves up to 1000. */
export const EVENTS_PAGE_SIZE = 50;

type Filters = Pick<
  PredictionEventQuery,
  'status' | 'trigger' | 'version' | 'caller'
>;

const STATUS_FILTERS: [string, string][] = [
  ['', 'Any status'],
  ['2xx', 'Succeeded (2xx)'],
  ['error', 'Failed (4xx and 5xx)'],
  ['4xx', 'Caller errors (4xx)'],
  ['5xx', 'Model errors (5xx)'],
];

const TRIGGERS: [string, string][] = [
  ['', 'Any trigger'],
  ['http', 'HTTP'],
  ['event', 'Event'],
  ['batch', 'Batch'],
];

function statusText(e: PredictionEvent) {
  return e.error ? `${e.status}: ${e.error}` : String(e.status);
}

const columns: TableColumn<PredictionEvent>[] = [
  {
    title: 'When',
    field: 'time',
    cellStyle: { whiteSpace: 'nowrap' },
    render: e => formatTime(e.time),
  },
  { title: 'Status', field: 'status', render: statusText },
  { title: 'Trigger', field: 'trigger' },
  {
    title: 'Caller',
    field: 'caller',
    render: e =>
      e.caller?.startsWith('user:') ? (
        <Principal entityRef={e.caller} />
      ) : (
        e.caller ?? e.callerKind
      ),
  },
  { title: 'Version', field: 'version', render: e => `v${e.version}` },
  {
    title: 'Latency',
    field: 'latencyMs',
    render: e => `${e.latencyMs.toFixed(1)} ms`,
  },
  { title: 'Rows', field: 'rows', render: e => e.rows ?? '' },
];

function json(value: unknown) {
  return JSON.stringify(value, null, 2);
}

/** Why an event has no request (or response) to show. */
function missing(event: PredictionEvent, label: string): string {
  if (!event.sampled) {
    return 'Not kept: this event was not sampled (mlPlatform.events.sampleRate).';
  }
  if (event.truncated) {
    return 'Not kept: larger than mlPlatform.events.maxPayloadBytes.';
  }
  return label === 'Request'
    ? 'None: the call was refused before its body was read.'
    : 'None: the model did not answer.';
}

/** One event with its request and response. */
function EventDialog(props: { event: PredictionEvent; onClose: () => void }) {
  const { event, onClose } = props;
  const payload = (label: string, value: unknown) => (
    <Box mb={2}>
      <Typography variant="subtitle2">{label}</Typography>
      {value === undefined ? (
        <Typography variant="body2" color="textSecondary">
          {missing(event, label)}
        </Typography>
      ) : (
        <CodeSnippet language="json" text={json(value)} showCopyCodeButton />
      )}
    </Box>
  );
  return (
    <FormDialog title={`Event ${event.id}`} onClose={onClose} maxWidth="md">
      <Typography variant="body2" paragraph>
        {formatTime(event.time)} · {event.trigger} · status {statusText(event)}{' '}
        · v{event.version} · deployment {event.deploymentId ?? '-'}
        {event.sourceEventId && ` · source event ${event.sourceEventId}`}
      </Typography>
      {payload('Request', event.request)}
      {payload('Response', event.response)}
    </FormDialog>
  );
}

function download(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/**
 * The model's prediction events, newest first: filters by status,
 * trigger, version and caller, each event's request and response, and an
 * export of every matching event.
 */
export function EventsTab() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const [filters, setFilters] = useState<Filters>({});
  const [items, setItems] = useState<PredictionEvent[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<Error>();
  const [open, setOpen] = useState<PredictionEvent>();

  const load = useCallback(
    async (after?: string) => {
      try {
        const page = await api.listPredictionEvents(ref, {
          ...filters,
          limit: EVENTS_PAGE_SIZE,
          cursor: after,
        });
        setItems(previous =>
          after ? [...(previous ?? []), ...page.items] : page.items,
        );
        setCursor(page.nextCursor);
        setError(undefined);
      } catch (e) {
        setError(e as Error);
      }
    },
    [api, ref, filters],
  );
  useEffect(() => {
    setItems(undefined);
    void load();
  }, [load]);

  const set = (key: keyof Filters) => (value: string) => {
    let parsed: string | number | undefined = value;
    if (value === '') parsed = undefined;
    else if (key === 'version') parsed = Number(value);
    setFilters(f => ({ ...f, [key]: parsed }));
  };

  const exportAs = async (format: 'jsonl' | 'csv') => {
    try {
      const { status, trigger, version, caller } = filters;
      const blob = await api.exportPredictionEvents(ref, format, {
        status,
        trigger,
        version,
        caller,
      });
      download(blob, `${ref.name}-events.${format}`);
    } catch (e) {
      setError(e as Error);
    }
  };

  return (
    <>
      <Box display="flex" flexWrap="wrap" alignItems="center" mb={2}>
        <Box mr={2} minWidth={180}>
          <TextField
            select
            fullWidth
            id="ml-platform-events-status"
            label="Status"
            value={filters.status ?? ''}
            onChange={e => set('status')(e.target.value)}
          >
            {STATUS_FILTERS.map(([value, label]) => (
              <MenuItem key={value} value={value}>
                {label}
              </MenuItem>
            ))}
          </TextField>
        </Box>
        <Box mr={2} minWidth={140}>
          <TextField
            select
            fullWidth
            id="ml-platform-events-trigger"
            label="Trigger"
            value={filters.trigger ?? ''}
            onChange={e => set('trigger')(e.target.value)}
          >
            {TRIGGERS.map(([value, label]) => (
              <MenuItem key={value} value={value}>
                {label}
              </MenuItem>
            ))}
          </TextField>
        </Box>
        <Box mr={2} width={100}>
          <TextField
            id="ml-platform-events-version"
            label="Version"
            type="number"
            value={filters.version ?? ''}
            onChange={e => set('version')(e.target.value)}
          />
        </Box>
        <Box mr={2} width={220}>
          <TextField
            id="ml-platform-events-caller"
            label="Caller"
            placeholder="user:default/ada"
            value={filters.caller ?? ''}
            onChange={e => set('caller')(e.target.value)}
          />
        </Box>
        <Box flexGrow={1} />
        <Button onClick={() => exportAs('jsonl')}>Export JSONL</Button>
        <Button onClick={() => exportAs('csv')}>Export CSV</Button>
      </Box>
      {error && <ResponseErrorPanel error={error} />}
      {items === undefined && !error && <Progress />}
      {items && (
        <Table<PredictionEvent>
          title="Prediction events"
          subtitle="Every call, event-triggered prediction and batch chunk; click one for its request and response"
          columns={columns}
          data={items}
          onRowClick={(_e, row) => row && setOpen(row)}
          options={{
            paging: false,
            search: false,
            sorting: false,
            padding: 'dense',
          }}
          localization={{
            body: {
              emptyDataSourceMessage:
                'No prediction events match: call the model from the Try it tab, or change the filters.',
            },
          }}
        />
      )}
      {cursor && (
        <Box mt={1}>
          <Button onClick={() => load(cursor)}>Older events</Button>
        </Box>
      )}
      {open && <EventDialog event={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}
