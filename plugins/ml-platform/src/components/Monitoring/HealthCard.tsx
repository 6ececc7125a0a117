import { InfoCard, Link } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { mlPlatformApiRef } from '../../api';
import { useModelRef, usePolledAsync, useSectionLink } from '../../hooks';
import { formatLatency, formatPerSecond, formatRatio } from '../../lib/format';
import { Sparkline, useChartTheme } from './charts';
import { METRICS_POLL_MS } from './MonitoringTab';

/** The model's last hour at a glance: requests/s, p95 and error ratio. */
export function HealthCard() {
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const colors = useChartTheme();
  const sectionLink = useSectionLink();
  const monitoringLink = sectionLink({ tab: 'monitoring' });
  const { value: m, error } = usePolledAsync(
    () =>
      api.getModelMetrics(ref, {
        from: new Date(Date.now() - 3_600_000),
        stepSeconds: 120,
      }),
    [api, ref],
    METRICS_POLL_MS,
  );
  const deepLink = { title: 'Monitoring', link: monitoringLink };
  if (!m) {
    return (
      <InfoCard title="Health, last hour" deepLink={deepLink}>
        <Typography color={error ? 'error' : 'textSecondary'}>
          {error ? `Metrics unavailable: ${error.message}` : 'Loading…'}
        </Typography>
      </InfoCard>
    );
  }
  if (m.summary.requests === 0) {
    return (
      <InfoCard title="Health, last hour" deepLink={deepLink}>
        <Typography paragraph>No calls in the last hour.</Typography>
        <Link to={sectionLink({ tab: 'try-it' })}>
          Try it from the Try it tab
        </Link>
      </InfoCard>
    );
  }
  const total = m.requestsPerSecond.reduce<Array<number | null>>(
    (sums, s) => s.values.map((v, i) => (sums[i] ?? 0) + (v ?? 0)),
    [],
  );
  const stats = [
    {
      label: 'Requests/s',
      value: formatPerSecond(m.summary.requestsPerSecond),
      values: total,
      color: colors.lines[0],
    },
    {
      label: 'p95 latency',
      value: formatLatency(m.summary.latencyP95),
      values: m.latencySeconds.find(s => s.name === 'p95')?.values ?? [],
      color: colors.named.p95,
    },
    {
      label: 'Error ratio',
      value: formatRatio(m.summary.errorRatio),
      values: m.errorRatio.find(s => s.name === 'all')?.values ?? [],
      color: colors.named.model_error,
    },
  ];
  return (
    <InfoCard title="Health, last hour" deepLink={deepLink}>
      <Grid container spacing={2}>
        {stats.map(s => (
          <Grid item xs={4} key={s.label}>
            <Typography variant="body2" color="textSecondary">
              {s.label}
            </Typography>
            <Typography variant="h5" component="div" aria-label={s.label}>
              {s.value}
            </Typography>
            <Box mt={1}>
              <Sparkline
                title={`${s.label} over the last hour`}
                values={s.values}
                color={s.color}
              />
            </Box>
          </Grid>
        ))}
      </Grid>
    </InfoCard>
  );
}
