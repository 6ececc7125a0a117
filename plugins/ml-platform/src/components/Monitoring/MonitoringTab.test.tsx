import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  mockMlPlatformApi,
  modelMetrics,
  quietMetrics,
  renderForEntity,
  responseError,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

const openTab = (api: ReturnType<typeof mockMlPlatformApi>) =>
  renderForEntity(<EntityMlPlatformContent />, {
    api,
    route: '/?tab=monitoring',
  });

/** A chart's legend entries and how many lines or bar groups it drew. */
function chartOf(title: string) {
  const chart = screen.getByRole('img', { name: title });
  return {
    legend: Array.from(
      chart.querySelectorAll('.recharts-legend-item-text'),
    ).map(e => e.textContent),
    lines: chart.querySelectorAll('path.recharts-line-curve'),
    bars: chart.querySelectorAll('.recharts-bar-rectangle'),
  };
}

// Recharts lays out every chart in jsdom: slower than other tabs.
jest.setTimeout(30_000);

describe('Monitoring tab', () => {
  it('charts the series the API answers', async () => {
    const api = mockMlPlatformApi({
      getModelMetrics: async () => modelMetrics(),
    });
    await openTab(api);

    expect(
      await screen.findByRole('tab', { name: 'Monitoring' }),
    ).toHaveAttribute('aria-selected', 'true');
    const summary = await screen.findByLabelText('Summary');
    expect(summary).toHaveTextContent('Requests1,260');
    expect(summary).toHaveTextContent('p9519 ms');
    expect(summary).toHaveTextContent('Error ratio5%');

    const requests = chartOf('Requests per second');
    expect(requests.legend).toEqual(['v2', 'v3']);
    expect(requests.lines).toHaveLength(2);
    // Three points per line: a path through three coordinates.
    expect(requests.lines[0].getAttribute('d')!.match(/[MLC]/g)).toHaveLength(
      3,
    );
    expect(chartOf('Latency').legend).toEqual(['p50', 'p95', 'p99']);
    expect(chartOf('Error ratio').legend).toEqual([
      'all',
      'caller error',
      'model error',
      'unavailable',
      'timeout',
    ]);
    expect(chartOf('Custom KPIs').legend).toEqual(['revenue_at_risk']);
    expect(
      screen.getByText('revenue_at_risk: 220 over 22 values'),
    ).toBeInTheDocument();

    // Each output: this range against the one before, as bars.
    const probability = chartOf('Distribution of churn_probability');
    expect(probability.legend).toEqual(['range before', 'this range']);
    expect(probability.bars).toHaveLength(4);
    expect(
      screen.getByText(
        'churn_probability: 1,200 predictions, mean 0.41 (before: 0.27)',
      ),
    ).toBeInTheDocument();
    expect(chartOf('Distribution of churn').bars).toHaveLength(4);

    expect(chartOf('Replica restarts').bars.length).toBeGreaterThan(0);
    const replicas = screen
      .getByText('Replicas now')
      .closest('.MuiPaper-root')!;
    const row = within(replicas as HTMLElement)
      .getByText('r1')
      .closest('tr')!;
    expect(row).toHaveTextContent('v3');
    expect(row).toHaveTextContent('12.3 s');
    expect(row).toHaveTextContent('50 MiB');
  });

  it('asks for the chosen range, deployment and version', async () => {
    // No charts to lay out: the filters are what this test is about.
    const getModelMetrics = jest.fn(async () => ({
      ...quietMetrics(),
      deployments: ['d1-aaaaaaaa', 'd2-bbbbbbbb'],
      versions: [2, 3],
    }));
    const api = mockMlPlatformApi({ getModelMetrics });
    await openTab(api);
    await screen.findByText('No traffic in the last 1 h');
    const lastQuery = () => getModelMetrics.mock.calls.at(-1)!.at(1) as any;
    expect(lastQuery()).toMatchObject({ stepSeconds: 60 });
    expect(Date.now() - lastQuery().from.getTime()).toBeCloseTo(3_600_000, -4);

    await userEvent.click(screen.getByRole('button', { name: '30 d' }));
    await waitFor(() =>
      expect(lastQuery()).toMatchObject({ stepSeconds: 3600 }),
    );
    expect(Date.now() - lastQuery().from.getTime()).toBeCloseTo(
      30 * 86_400_000,
      -4,
    );
    expect(screen.getByRole('button', { name: '30 d' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );

    fireEvent.mouseDown(screen.getByLabelText('Deployment'));
    await userEvent.click(
      await screen.findByRole('option', { name: 'd2-bbbbb' }),
    );
    await waitFor(() =>
      expect(lastQuery()).toMatchObject({ deploymentId: 'd2-bbbbbbbb' }),
    );
    fireEvent.mouseDown(screen.getByLabelText('Version'));
    await userEvent.click(await screen.findByRole('option', { name: 'v3' }));
    await waitFor(() =>
      expect(lastQuery()).toMatchObject({
        deploymentId: 'd2-bbbbbbbb',
        version: 3,
        stepSeconds: 3600,
      }),
    );
  });

  it('says what to do when there is no traffic', async () => {
    const api = mockMlPlatformApi({
      getModelMetrics: async () => quietMetrics(),
    });
    await openTab(api);
    expect(
      await screen.findByText('No traffic in the last 1 h'),
    ).toBeInTheDocument();
    expect(screen.getByText(/Try it from the Try it tab/)).toBeInTheDocument();
    const emptyState = screen
      .getByText('No traffic in the last 1 h')
      .closest('.MuiGrid-container') as HTMLElement;
    expect(within(emptyState).getByText('Try it').closest('a')).toHaveAttribute(
      'href',
      '/?tab=try-it',
    );
    expect(
      screen.queryByRole('img', { name: 'Latency' }),
    ).not.toBeInTheDocument();
  });

  it('shows the backend error', async () => {
    const error = await responseError(
      503,
      'Prometheus at http://prometheus:9090 did not answer',
      'ServiceUnavailableError',
    );
    const api = mockMlPlatformApi({
      getModelMetrics: async () => Promise.reject(error),
    });
    await openTab(api);
    expect(
      (
        await screen.findAllByText(
          /Prometheus at http:\/\/prometheus:9090 did not answer/,
        )
      ).length,
    ).toBeGreaterThan(0);
  });
});
