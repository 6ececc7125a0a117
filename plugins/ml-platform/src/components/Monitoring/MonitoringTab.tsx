import {
  EmptyState,
  InfoCard,
  LinkButton,
  Progress,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ModelMetrics,
  ReplicaHealth,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import ButtonGroup from '@material-ui/core/ButtonGroup';
import FormControl from '@material-ui/core/FormControl';
import Grid from '@material-ui/core/Grid';
import InputLabel from '@material-ui/core/InputLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Select from '@material-ui/core/Select';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { useLocation } from 'react-router-dom';
import { AlertsSection } from './AlertsSection';
import { mlPlatformApiRef } from '../../api';
import { useModelRef, usePolledAsync, useSectionLink } from '../../hooks';
import {
  formatBytes,
  formatCount,
  formatLatency,
  formatPerSecond,
  formatRatio,
} from '../../lib/format';
import { StatusChip } from '../StatusChip';
import { DistributionChart, TimeSeriesChart, formatCompact } from './charts';

/** The ranges the tab offers, with the step that gives a readable chart. */
export const RANGES = [
  { id: '1h', label: '1 h', ms: 3_600_000, stepSeconds: 60 },
  { id: '6h', label: '6 h', ms: 6 * 3_600_000, stepSeconds: 300 },
  { id: '24h', label: '24 h', ms: 24 * 3_600_000, stepSeconds: 900 },
  { id: '7d', label: '7 d', ms: 7 * 86_400_000, stepSeconds: 3600 },
  { id: '30d', label: '30 d', ms: 30 * 86_400_000, stepSeconds: 3600 },
] as const;

/** Charts refresh this often while the page is visible. */
export const METRICS_POLL_MS = 15_000;

const ALL = 'all';

/**
 * A range given in the page's address (`?from=…&to=…`, as an alert
 * notification links to it), with a step giving about 60 points.
 */
export function rangeFromSearch(
  search: string,
): { from: Date; to: Date; stepSeconds: number } | undefined {
  const params = new URLSearchParams(search);
  const from = Date.parse(params.get('from') ?? '');
  const to = Date.parse(params.get('to') ?? '');
  if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) {
    return undefined;
  }
  const stepSeconds = Math.max(60, Math.ceil((to - from) / 60_000 / 60) * 60);
  return { from: new Date(from), to: new Date(to), stepSeconds };
}

const formatMean = (mean: number) =>
  mean.toLocaleString('en-US', { maximumSignificantDigits: 3 });

const plural = (n: number, noun: string) =>
  `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;

function Stat(props: { label: string; value: string }) {
  return (
    <Box mr={4} mb={1}>
      <Typography variant="body2" color="textSecondary">
        {props.label}
      </Typography>
      <Typography variant="h5" component="div">
        {props.value}
      </Typography>
    </Box>
  );
}

const replicaColumns: TableColumn<ReplicaHealth & { id: string }>[] = [
  { title: 'Replica', field: 'replicaId' },
  {
    title: 'Version',
    field: 'version',
    render: r => (r.version ? `v${r.version}` : r.buildId.slice(0, 8)),
  },
  {
    title: 'State',
    field: 'state',
    render: r => <StatusChip status={r.state} />,
  },
  { title: 'Restarts', field: 'restarts', type: 'numeric' },
  {
    title: 'CPU time',
    field: 'cpuSeconds',
    type: 'numeric',
    render: r =>
      r.cpuSeconds === undefined ? '—' : `${r.cpuSeconds.toFixed(1)} s`,
  },
  {
    title: 'Memory',
    field: 'memoryBytes',
    type: 'numeric',
    render: r => formatBytes(r.memoryBytes),
  },
  { title: 'Last error', field: 'lastError' },
];

function TrafficCharts(props: { metrics: ModelMetrics }) {
  const { metrics: m } = props;
  const { timestamps } = m;
  return (
    <>
      <Grid item xs={12} md={6}>
        <InfoCard title="Requests per second, by version">
          <TimeSeriesChart
            title="Requests per second"
            timestamps={timestamps}
            series={m.requestsPerSecond}
            label={version => `v${version}`}
            format={formatPerSecond}
          />
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={6}>
        <InfoCard title="Latency">
          <TimeSeriesChart
            title="Latency"
            timestamps={timestamps}
            series={m.latencySeconds}
            format={formatLatency}
          />
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={6}>
        <InfoCard title="Error ratio, by class">
          <TimeSeriesChart
            title="Error ratio"
            timestamps={timestamps}
            series={m.errorRatio}
            label={name => name.replace('_', ' ')}
            format={formatRatio}
          />
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={6}>
        <InfoCard title="Rows predicted per second">
          <TimeSeriesChart
            title="Rows per second"
            timestamps={timestamps}
            series={m.rowsPerSecond}
            format={formatPerSecond}
          />
        </InfoCard>
      </Grid>
      <Grid item xs={12}>
        <InfoCard
          title="Predictions"
          subheader="Each output's distribution in this range against the range before it"
        >
          {m.predictions.length === 0 ? (
            <Typography>
              No outputs to show: the model's answers in this range had no
              numeric, class or boolean values.
            </Typography>
          ) : (
            <Grid container spacing={2}>
              {m.predictions.map(p => (
                <Grid item xs={12} md={6} key={p.output}>
                  <Typography variant="subtitle2">
                    {p.output}: {formatCount(p.currentTotal)} predictions
                    {p.currentMean !== undefined &&
                      p.currentMean !== null &&
                      `, mean ${formatMean(p.currentMean)}`}
                    {p.previousMean !== undefined &&
                      p.previousMean !== null &&
                      ` (before: ${formatMean(p.previousMean)})`}
                  </Typography>
                  <DistributionChart distribution={p} />
                </Grid>
              ))}
            </Grid>
          )}
        </InfoCard>
      </Grid>
      {m.kpis.length > 0 && (
        <Grid item xs={12} md={6}>
          <InfoCard
            title="Custom KPIs"
            subheader="Sum per step of the kpis the model returns"
          >
            <TimeSeriesChart
              title="Custom KPIs"
              timestamps={timestamps}
              series={m.kpis.map(k => ({ name: k.name, values: k.sum }))}
              format={formatCompact}
            />
            {m.kpis.map(k => (
              <Typography variant="body2" key={k.name}>
                {k.name}: {k.total.sum.toLocaleString('en-US')} over{' '}
                {formatCount(k.total.count)} values
              </Typography>
            ))}
          </InfoCard>
        </Grid>
      )}
    </>
  );
}

/**
 * Model health: traffic, latency, errors, predictions, custom KPIs and
 * replicas over a chosen range, for one deployment or version or all.
 */
export function MonitoringTab() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const sectionLink = useSectionLink();
  const { search } = useLocation();
  const [given, setGiven] = useState(() => rangeFromSearch(search));
  const [rangeId, setRangeId] = useState<(typeof RANGES)[number]['id']>('1h');
  const [deployment, setDeployment] = useState(ALL);
  const [version, setVersion] = useState(ALL);
  const range = RANGES.find(r => r.id === rangeId)!;
  const metrics = usePolledAsync(
    () =>
      api.getModelMetrics(ref, {
        from: given?.from ?? new Date(Date.now() - range.ms),
        to: given?.to,
        stepSeconds: given?.stepSeconds ?? range.stepSeconds,
        deploymentId: deployment === ALL ? undefined : deployment,
        version: version === ALL ? undefined : Number(version),
      }),
    [api, ref, range, given, deployment, version],
    METRICS_POLL_MS,
  );

  const m = metrics.value;
  const controls = (
    <Box display="flex" flexWrap="wrap" alignItems="center" mb={2}>
      <ButtonGroup size="small" aria-label="Time range">
        {RANGES.map(r => (
          <Button
            key={r.id}
            aria-pressed={!given && r.id === rangeId}
            variant={!given && r.id === rangeId ? 'contained' : 'outlined'}
            color={!given && r.id === rangeId ? 'primary' : 'default'}
            onClick={() => {
              setGiven(undefined);
              setRangeId(r.id);
            }}
          >
            {r.label}
          </Button>
        ))}
      </ButtonGroup>
      {given && (
        <Box ml={2}>
          <Typography variant="body2" aria-label="Range">
            {given.from.toLocaleString()} – {given.to.toLocaleString()}
          </Typography>
        </Box>
      )}
      <Box ml={3} minWidth={180}>
        <FormControl fullWidth size="small">
          <InputLabel id="monitoring-deployment">Deployment</InputLabel>
          <Select
            labelId="monitoring-deployment"
            value={deployment}
            onChange={e => setDeployment(e.target.value as string)}
          >
            <MenuItem value={ALL}>All deployments</MenuItem>
            {(m?.deployments ?? []).map(d => (
              <MenuItem key={d} value={d}>
                {d.slice(0, 8)}
              </MenuItem>
            ))}
          </Select>
        </FormControl>
      </Box>
      <Box ml={3} minWidth={140}>
        <FormControl fullWidth size="small">
          <InputLabel id="monitoring-version">Version</InputLabel>
          <Select
            labelId="monitoring-version"
            value={version}
            onChange={e => setVersion(e.target.value as string)}
          >
            <MenuItem value={ALL}>All versions</MenuItem>
            {(m?.versions ?? []).map(v => (
              <MenuItem key={v} value={String(v)}>
                v{v}
              </MenuItem>
            ))}
          </Select>
        </FormControl>
      </Box>
      {m && (
        <Box ml="auto">
          <Typography variant="caption" color="textSecondary">
            {m.source === 'prometheus'
              ? 'From Prometheus'
              : "From the platform's metrics store"}
          </Typography>
        </Box>
      )}
    </Box>
  );

  if (metrics.loading) {
    return (
      <>
        {controls}
        <Progress />
      </>
    );
  }
  if (!m) {
    return (
      <>
        {controls}
        <ResponseErrorPanel error={metrics.error ?? new Error('No metrics')} />
      </>
    );
  }
  const hasTraffic = m.summary.requests > 0;
  const hasBatch = m.batch.totals.chunks > 0;
  return (
    <>
      {controls}
      {metrics.error && <ResponseErrorPanel error={metrics.error} />}
      {hasTraffic && (
        <Box display="flex" flexWrap="wrap" mb={2} aria-label="Summary">
          <Stat label="Requests" value={formatCount(m.summary.requests)} />
          <Stat
            label="Requests/s"
            value={formatPerSecond(m.summary.requestsPerSecond)}
          />
          <Stat label="p50" value={formatLatency(m.summary.latencyP50)} />
          <Stat label="p95" value={formatLatency(m.summary.latencyP95)} />
          <Stat label="p99" value={formatLatency(m.summary.latencyP99)} />
          <Stat label="Error ratio" value={formatRatio(m.summary.errorRatio)} />
          <Stat label="Rows" value={formatCount(m.summary.rows)} />
        </Box>
      )}
      {!hasTraffic && !hasBatch && (
        <EmptyState
          missing="data"
          title={
            given
              ? 'No traffic in this range'
              : `No traffic in the last ${range.label}`
          }
          description="Calls through the gateway show here within seconds. Try it from the Try it tab, call the endpoint from the Overview, or pick a longer range."
          action={
            <LinkButton
              variant="contained"
              color="primary"
              to={sectionLink({ tab: 'try-it' })}
            >
              Try it
            </LinkButton>
          }
        />
      )}
      <Grid container spacing={3}>
        {hasTraffic && <TrafficCharts metrics={m} />}
        {hasBatch && (
          <Grid item xs={12} md={6}>
            <InfoCard
              title="Batch"
              subheader={`${formatCount(m.batch.totals.rows)} rows in ${plural(
                m.batch.totals.chunks,
                'chunk attempt',
              )}, ${formatCount(m.batch.totals.failedChunks)} failed`}
            >
              <TimeSeriesChart
                title="Batch rows per second"
                timestamps={m.timestamps}
                series={m.batch.rowsPerSecond}
                format={formatPerSecond}
              />
              <TimeSeriesChart
                title="Chunk duration"
                timestamps={m.timestamps}
                series={m.batch.chunkSeconds}
                format={formatLatency}
              />
            </InfoCard>
          </Grid>
        )}
        <Grid item xs={12} md={hasTraffic ? 6 : 12}>
          <InfoCard title="Replica restarts">
            <TimeSeriesChart
              title="Replica restarts"
              timestamps={m.timestamps}
              series={m.replicas.restarts}
              format={formatCompact}
              bars
            />
          </InfoCard>
        </Grid>
        {m.replicas.current.length > 0 && (
          <Grid item xs={12}>
            <Table
              title="Replicas now"
              options={{ paging: false, search: false, padding: 'dense' }}
              columns={replicaColumns}
              data={m.replicas.current.map(r => ({
                ...r,
                id: `${r.deploymentId}/${r.replicaId}`,
              }))}
            />
          </Grid>
        )}
        <Grid item xs={12}>
          <AlertsSection modelRef={ref} />
        </Grid>
      </Grid>
    </>
  );
}
