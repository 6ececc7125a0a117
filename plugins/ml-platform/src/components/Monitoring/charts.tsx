import {
  MetricSeries,
  PredictionDistribution,
} from '@internal/plugin-ml-platform-common';
import { BackstageTheme } from '@backstage/theme';
import Box from '@material-ui/core/Box';
import { useTheme } from '@material-ui/core/styles';
import {
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';

/** Colours for chart lines, from the Backstage theme's palette. */
export function useChartTheme() {
  const theme = useTheme<BackstageTheme>();
  const { palette } = theme;
  return {
    lines: [
      palette.primary.main,
      palette.secondary.main,
      palette.success.main,
      palette.warning.main,
      palette.info.main,
      palette.error.main,
      palette.text.primary,
    ],
    /** Named series keep a colour that says what they are. */
    named: {
      p50: palette.success.main,
      p95: palette.warning.main,
      p99: palette.error.main,
      all: palette.text.primary,
      caller_error: palette.warning.main,
      model_error: palette.error.main,
      unavailable: palette.info.main,
      timeout: palette.secondary.main,
      current: palette.primary.main,
      previous: palette.textSubtle,
    } as Record<string, string>,
    grid: palette.textVerySubtle,
    axis: palette.text.secondary,
    tooltip: {
      background: palette.background.paper,
      border: palette.divider,
      text: palette.text.primary,
    },
  };
}

const compact = new Intl.NumberFormat('en', {
  notation: 'compact',
  maximumFractionDigits: 2,
});

/** Compact counts for axes: 1.2K, 3M, 0.25. */
export const formatCompact = (value: number) => compact.format(value);

/** Whether a line has too few measured points to be seen as a line. */
const sparse = (series: MetricSeries) =>
  series.values.filter(v => v !== null).length < 12;

/** Axis labels: times of day within a day, dates beyond. */
function timeFormatter(spanMs: number) {
  return (time: number) => {
    const date = new Date(time);
    return spanMs <= 86_400_000
      ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
      : date.toLocaleDateString([], { month: 'short', day: 'numeric' });
  };
}

/**
 * Lines over time, one per series, in the shape of the Backstage
 * Prometheus plugin's graphs (grid, time axis, compact values, legend),
 * coloured from the theme.
 */
export function TimeSeriesChart(props: {
  /** What the chart shows, for screen readers. */
  title: string;
  timestamps: number[];
  series: MetricSeries[];
  /** Formats values in the tooltip and on the value axis. */
  format: (value: number) => string;
  /** Series names as the legend shows them. */
  label?: (name: string) => string;
  height?: number;
  /** Bars instead of lines, for counts per step (restarts). */
  bars?: boolean;
}) {
  const { title, timestamps, series, format, height = 220, bars } = props;
  const label = props.label ?? ((name: string) => name);
  const colors = useChartTheme();
  const data = timestamps.map((time, i) => ({
    time,
    ...Object.fromEntries(series.map(s => [s.name, s.values[i]])),
  }));
  const span = (timestamps.at(-1) ?? 0) - (timestamps[0] ?? 0);
  const colorOf = (name: string, index: number) =>
    colors.named[name] ?? colors.lines[index % colors.lines.length];
  return (
    <Box role="img" aria-label={title} data-testid={`chart-${title}`}>
      <ResponsiveContainer width="100%" height={height}>
        <ComposedChart data={data} margin={{ top: 8, right: 16, left: 0 }}>
          <CartesianGrid stroke={colors.grid} strokeDasharray="3 3" />
          <XAxis
            dataKey="time"
            type="number"
            scale="time"
            domain={['dataMin', 'dataMax']}
            tickFormatter={timeFormatter(span)}
            stroke={colors.axis}
            tickCount={6}
          />
          <YAxis
            stroke={colors.axis}
            width={64}
            tickFormatter={(v: number) => format(v)}
          />
          <Tooltip
            labelFormatter={(time: number) => new Date(time).toLocaleString()}
            formatter={(value: number) => format(value)}
            contentStyle={{
              background: colors.tooltip.background,
              borderColor: colors.tooltip.border,
              color: colors.tooltip.text,
            }}
          />
          <Legend formatter={(name: string) => label(name)} />
          {series.map((s, i) =>
            bars ? (
              <Bar
                key={s.name}
                dataKey={s.name}
                name={s.name}
                fill={colorOf(s.name, i)}
                isAnimationActive={false}
              />
            ) : (
              <Line
                key={s.name}
                dataKey={s.name}
                name={s.name}
                type="monotone"
                // A few points make no line: show them as dots.
                dot={sparse(s) ? { r: 2.5 } : false}
                isAnimationActive={false}
                strokeWidth={2}
                stroke={colorOf(s.name, i)}
                connectNulls={false}
              />
            ),
          )}
        </ComposedChart>
      </ResponsiveContainer>
    </Box>
  );
}

/**
 * One output's predictions, this range beside the range before it, as
 * shares of each window's total so a shift shows even when traffic changed.
 */
export function DistributionChart(props: {
  distribution: PredictionDistribution;
  height?: number;
}) {
  const { distribution: d, height = 200 } = props;
  const colors = useChartTheme();
  const share = (count: number, total: number) =>
    total > 0 ? count / total : 0;
  const data = d.bins.map(b => ({
    bin: b.bin,
    current: share(b.current, d.currentTotal),
    previous: share(b.previous, d.previousTotal),
  }));
  const percent = (v: number) => `${(v * 100).toFixed(1)}%`;
  return (
    <Box
      role="img"
      aria-label={`Distribution of ${d.output}`}
      data-testid={`distribution-${d.output}`}
    >
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={data} margin={{ top: 8, right: 16, left: 0 }}>
          <CartesianGrid stroke={colors.grid} strokeDasharray="3 3" />
          <XAxis dataKey="bin" stroke={colors.axis} />
          <YAxis
            stroke={colors.axis}
            width={56}
            tickFormatter={(v: number) => `${Math.round(v * 100)}%`}
          />
          <Tooltip
            formatter={(value: number) => percent(value)}
            contentStyle={{
              background: colors.tooltip.background,
              borderColor: colors.tooltip.border,
              color: colors.tooltip.text,
            }}
          />
          <Legend
            formatter={(name: string) =>
              name === 'current' ? 'this range' : 'range before'
            }
          />
          <Bar
            dataKey="previous"
            fill={colors.named.previous}
            isAnimationActive={false}
          />
          <Bar
            dataKey="current"
            fill={colors.named.current}
            isAnimationActive={false}
          />
        </BarChart>
      </ResponsiveContainer>
    </Box>
  );
}

/** A small line without axes, for a health card. */
export function Sparkline(props: {
  title: string;
  values: Array<number | null>;
  color?: string;
}) {
  const colors = useChartTheme();
  const data = props.values.map((value, i) => ({ i, value }));
  return (
    <Box role="img" aria-label={props.title} height={32}>
      <ResponsiveContainer width="100%" height={32}>
        <LineChart
          data={data}
          margin={{ top: 4, right: 4, bottom: 4, left: 4 }}
        >
          <Line
            dataKey="value"
            type="monotone"
            dot={
              sparse({ name: props.title, values: props.values })
                ? { r: 2 }
                : false
            }
            isAnimationActive={false}
            strokeWidth={1.5}
            stroke={props.color ?? colors.lines[0]}
          />
        </LineChart>
      </ResponsiveContainer>
    </Box>
  );
}
