import { ModelAlerts } from '@internal/plugin-ml-platform-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  mockMlPlatformApi,
  nonOwner,
  quietMetrics,
  renderForEntity,
  responseError,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

jest.setTimeout(30_000);

const alerts = (): ModelAlerts => ({
  evaluationIntervalSeconds: 60,
  items: [
    {
      name: 'churn-error-rate',
      metric: 'error_rate',
      op: '>',
      threshold: 0.05,
      for: '5m',
      severity: 'critical',
      source: 'manifest',
      state: 'firing',
      since: '2026-12-03T10:02:00.000Z',
      value: 0.4,
      lastEvaluatedAt: '2026-12-03T10:03:00.000Z',
      silencedUntil: null,
    },
    {
      name: 'slow',
      metric: 'latency_p95',
      op: '>',
      threshold: 0.25,
      for: '10m',
      severity: 'warning',
      source: 'api',
      state: 'ok',
      since: null,
      value: null,
      lastEvaluatedAt: null,
      silencedUntil: '2026-12-03T12:00:00.000Z',
    },
  ],
});

const history = {
  totalCount: 2,
  items: [
    {
      id: 2,
      rule: 'churn-error-rate',
      state: 'firing' as const,
      value: 0.4,
      threshold: 0.05,
      at: '2026-12-03T10:02:00.000Z',
      source: 'evaluator' as const,
      notified: true,
      silenced: false,
    },
    {
      id: 1,
      rule: 'churn-error-rate',
      state: 'pending' as const,
      value: 0.3,
      threshold: 0.05,
      at: '2026-12-03T09:57:00.000Z',
      source: 'evaluator' as const,
      notified: false,
      silenced: false,
    },
  ],
};

const openTab = (
  api: ReturnType<typeof mockMlPlatformApi>,
  options: { route?: string; config?: object } = {},
) =>
  renderForEntity(<EntityMlPlatformContent />, {
    api,
    route: options.route ?? '/?tab=monitoring',
    config: options.config,
  });

const withAlerts = (overrides = {}) =>
  mockMlPlatformApi({
    getModelMetrics: async () => quietMetrics(),
    getModelAlerts: async () => alerts(),
    getAlertHistory: async () => history,
    ...overrides,
  });

describe('Alerts section of the Monitoring tab', () => {
  it('lists the rules with their state, last change and where they come from, and the history', async () => {
    const api = withAlerts();
    await openTab(api);
    const table = await screen.findByRole('table', { name: 'Alert rules' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows[0]).toHaveTextContent('churn-error-rate');
    expect(rows[0]).toHaveTextContent('error_rate > 0.05 for 5m');
    expect(rows[0]).toHaveTextContent('firing');
    expect(rows[0]).toHaveTextContent('0.4');
    expect(rows[0]).toHaveTextContent('mlmodel.yaml');
    expect(rows[1]).toHaveTextContent('slow');
    expect(rows[1]).toHaveTextContent('silenced until');
    expect(rows[1]).toHaveTextContent('set here');
    const past = screen.getByRole('table', { name: 'Alert history' });
    expect(
      within(past)
        .getAllByRole('row')
        .slice(1)
        .map(r => r.textContent),
    ).toEqual([
      expect.stringMatching(/churn-error-ratefiring0\.4evaluatoryes/),
      expect.stringMatching(/churn-error-ratepending0\.3evaluatorno/),
    ]);
    expect(api.getAlertHistory).toHaveBeenCalledWith(
      { namespace: 'default', name: 'churn' },
      { limit: 20 },
    );
  });

  it('silences a rule for the chosen time and lifts a silence', async () => {
    const api = withAlerts({
      silenceAlert: jest.fn(async () => alerts().items[0]),
      unsilenceAlert: jest.fn(async () => alerts().items[1]),
    });
    await openTab(api);
    const table = await screen.findByRole('table', { name: 'Alert rules' });
    const [first, second] = within(table).getAllByRole('row').slice(1);
    await userEvent.click(
      within(first).getByRole('button', { name: 'Silence' }),
    );
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(
      within(dialog).getByRole('button', { name: /1 hour/ }),
    );
    await userEvent.click(
      await screen.findByRole('option', { name: '4 hours' }),
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Silence' }),
    );
    await waitFor(() =>
      expect(api.silenceAlert).toHaveBeenCalledWith(
        { namespace: 'default', name: 'churn' },
        'churn-error-rate',
        '4h',
      ),
    );
    await userEvent.click(
      within(second).getByRole('button', { name: 'Unsilence' }),
    );
    await waitFor(() =>
      expect(api.unsilenceAlert).toHaveBeenCalledWith(
        { namespace: 'default', name: 'churn' },
        'slow',
      ),
    );
  });

  it('edits the rules as YAML: a manifest rule edited becomes an override; errors show in the dialog', async () => {
    const api = withAlerts({
      updateModelAlerts: jest
        .fn()
        .mockRejectedValueOnce(
          await responseError(
            400,
            'body.rules[1].threshold: expected a number',
            'InputError',
          ),
        )
        .mockResolvedValue(alerts()),
    });
    await openTab(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Edit churn-error-rate' }),
    );
    const dialog = await screen.findByRole('dialog');
    const text = within(dialog).getByLabelText(
      'Rules (YAML)',
    ) as HTMLTextAreaElement;
    expect(text.value).toContain('name: slow');
    expect(text.value).toContain('name: churn-error-rate');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Save rules' }),
    );
    expect(
      await within(dialog).findByText(
        /body\.rules\[1\]\.threshold: expected a number/,
      ),
    ).toBeInTheDocument();
    expect(api.updateModelAlerts).toHaveBeenCalledWith(
      { namespace: 'default', name: 'churn' },
      [
        {
          name: 'slow',
          metric: 'latency_p95',
          op: '>',
          threshold: 0.25,
          for: '10m',
          severity: 'warning',
        },
        {
          name: 'churn-error-rate',
          metric: 'error_rate',
          op: '>',
          threshold: 0.05,
          for: '5m',
          severity: 'critical',
        },
      ],
    );
    fireEvent.change(text, { target: { value: '[name: x' } });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Save rules' }),
    );
    expect(await within(dialog).findByText(/Not YAML/)).toBeInTheDocument();
    expect(api.updateModelAlerts).toHaveBeenCalledTimes(1);
  });

  it('keeps the actions disabled for users who may not change the rules', async () => {
    await openTab(withAlerts({ getModelPermissions: async () => nonOwner }));
    const edit = await screen.findByRole('button', { name: 'Edit rules' });
    await waitFor(() => expect(edit).toBeDisabled());
    const table = screen.getByRole('table', { name: 'Alert rules' });
    for (const button of within(table).getAllByRole('button')) {
      expect(button).toBeDisabled();
    }
  });

  it('links to the dashboard in Grafana when configured, and offers it for download either way', async () => {
    const dashboard = { uid: 'mlp-default-churn', title: 'ML model: churn' };
    const api = withAlerts({
      getModelDashboard: jest.fn(async () => dashboard),
    });
    await openTab(api, {
      config: {
        mlPlatform: {
          monitoring: { grafana: { url: 'https://grafana.example.com/' } },
        },
      },
    });
    expect(
      await screen.findByRole('link', {
        name: /Open the dashboard in Grafana/,
      }),
    ).toHaveAttribute(
      'href',
      'https://grafana.example.com/d/mlp-default-churn',
    );
    const createObjectURL = jest.fn(() => 'blob:dashboard');
    Object.assign(URL, { createObjectURL, revokeObjectURL: jest.fn() });
    await userEvent.click(
      screen.getByRole('button', { name: 'Download Grafana dashboard' }),
    );
    await waitFor(() => expect(createObjectURL).toHaveBeenCalled());
    expect(api.getModelDashboard).toHaveBeenCalledWith({
      namespace: 'default',
      name: 'churn',
    });
  });

  it('opens at the range of an alert notification link', async () => {
    const api = withAlerts();
    await openTab(api, {
      route:
        '/?tab=monitoring&from=2026-12-03T09:30:00.000Z&to=2026-12-03T10:35:00.000Z&alert=churn-error-rate',
    });
    await screen.findByRole('table', { name: 'Alert rules' });
    expect(api.getModelMetrics).toHaveBeenCalledWith(
      { namespace: 'default', name: 'churn' },
      expect.objectContaining({
        from: new Date('2026-12-03T09:30:00.000Z'),
        to: new Date('2026-12-03T10:35:00.000Z'),
        stepSeconds: 120,
      }),
    );
    expect(screen.getByLabelText('Range')).toBeInTheDocument();
  });
});
