import { screen, waitFor, within } from '@testing-library/react';
import {
  build,
  churnManifest,
  deployment,
  execution,
  lineBreakersIn,
  mockMlPlatformApi,
  ndarrayManifest,
  modelMetrics,
  quietMetrics,
  renderForEntity,
  responseError,
  summary,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

const liveBuild = build(2, { manifest: churnManifest });
const latest = build(3, {
  status: 'failed',
  failureReason: 'smoke prediction failed',
  trigger: 'push',
});
const live = deployment({
  buildId: liveBuild.id,
  status: 'ready',
  readyReplicas: 1,
  replicas: 2,
  reason: 'rolling out',
});

async function cardOf(title: string | RegExp) {
  const heading = await screen.findByText(title);
  return heading.closest('.MuiCard-root') as HTMLElement;
}

/** The Endpoints card of a model with a live deployment of `liveBuild`. */
async function endpointsOfLiveModel(
  overrides: Parameters<typeof mockMlPlatformApi>[0] = {},
) {
  const api = mockMlPlatformApi({
    getModel: async () => summary({ liveDeployment: live }),
    getBuild: async () => liveBuild,
    listExecutions: async () => [],
    getModelMetrics: async () => quietMetrics(),
    ...overrides,
  });
  await renderForEntity(<EntityMlPlatformContent />, { api });
  return cardOf('Endpoints');
}

describe('Overview tab', () => {
  it('shows the live deployment, the latest build and running executions', async () => {
    const api = mockMlPlatformApi({
      getModel: async () =>
        summary({
          liveDeployment: live,
          latestBuild: latest,
          runningExecutions: 1,
        }),
      getBuild: async () => liveBuild,
      listExecutions: async () => [
        execution(),
        execution({ id: 'done', status: 'succeeded' }),
      ],
      getModelMetrics: async () => quietMetrics(),
    });
    await renderForEntity(<EntityMlPlatformContent />, { api });

    const liveCard = await cardOf('Online deployment');
    expect(
      await within(liveCard).findByText(/Build v2 · 1\/2 replicas ready/),
    ).toBeInTheDocument();
    expect(within(liveCard).getByText('ready')).toBeInTheDocument();
    expect(within(liveCard).getByText('rolling out')).toBeInTheDocument();
    expect(within(liveCard).getByText(/to zero when idle/)).toBeInTheDocument();

    const buildCard = await cardOf('Latest build');
    expect(within(buildCard).getByText('failed')).toBeInTheDocument();
    // Version and status share one line.
    const versionLine = within(buildCard).getByText(/^v3/);
    expect(versionLine).toHaveTextContent('v3 failed');
    expect(lineBreakersIn(versionLine)).toEqual([]);
    expect(
      within(buildCard).getByText('smoke prediction failed'),
    ).toBeInTheDocument();
    expect(
      within(buildCard).getByRole('link', { name: /a1b2c3d/ }),
    ).toHaveAttribute(
      'href',
      `https://github.com/acme/ml-models/commit/${latest.commitSha}`,
    );

    const runningCard = await cardOf('Running executions (1)');
    const runningLine = within(runningCard).getByText(/^started/);
    expect(runningLine).toHaveTextContent(/^running started /);
    expect(lineBreakersIn(runningLine)).toEqual([]);
    expect(
      within(runningCard).getByRole('progressbar', {
        name: `Progress of execution ${execution().id}`,
      }),
    ).toHaveAttribute('aria-valuenow', '40');
  });

  it('gives absolute endpoint URLs and curl commands from the live build’s schema', async () => {
    const card = await endpointsOfLiveModel();
    expect(
      within(card).getByText(
        'POST https://portal.example.com/api/ml-platform/models/default/churn/predict',
      ),
    ).toBeInTheDocument();
    expect(
      within(card).getByText(
        'POST https://portal.example.com/api/ml-platform/v2/models/churn/infer',
      ),
    ).toBeInTheDocument();
    // The records curl and the mlp command.
    await waitFor(() =>
      expect(within(card).getAllByText(/"tenure_months":0/).length).toBe(2),
    );
    expect(within(card).getByText(/"datatype":"INT64"/)).toBeInTheDocument();

    expect(
      within(card).getByRole('button', {
        name: 'Copy curl for Records (MLflow scoring)',
      }),
    ).toBeInTheDocument();
    const curl = within(card).getByText(/^curl -X POST '[^']*\/predict'/);
    expect(curl.textContent).toContain(
      `-H "Authorization: Bearer $ML_PLATFORM_SERVICE_TOKEN"`,
    );
    expect(curl.textContent).toContain(
      `-d '{"dataframe_records":[{"tenure_months":0,"monthly_charges":0,"total_charges":0,"contract":"","support_calls":0,"has_internet":false}]}'`,
    );
  });

  it('gives the native data plane’s URLs when it runs', async () => {
    const card = await endpointsOfLiveModel({
      getGateway: async () => ({
        nativeDataPlane: { state: 'running', url: 'http://127.0.0.1:7008' },
      }),
    });
    expect(
      await within(card).findByText(
        'POST http://127.0.0.1:7008/api/ml-platform/models/default/churn/predict',
      ),
    ).toBeInTheDocument();
    expect(
      within(card).getByText(
        'POST http://127.0.0.1:7008/api/ml-platform/v2/models/churn/infer',
      ),
    ).toBeInTheDocument();
    expect(
      within(card).getAllByText(/^curl -X POST 'http:\/\/127\.0\.0\.1:7008\//),
    ).toHaveLength(2);
    expect(within(card).getByText(/native data plane at/)).toHaveTextContent(
      "Served by the platform's native data plane at http://127.0.0.1:7008, at less cost per call; the portal's https://portal.example.com/api/ml-platform answers the same calls alike.",
    );
  });

  it('gives the portal’s URLs when it cannot tell where the data plane is', async () => {
    const card = await endpointsOfLiveModel({
      getGateway: async () => {
        throw new Error('404 Not Found');
      },
    });
    expect(
      await within(card).findByText(
        'POST https://portal.example.com/api/ml-platform/v2/models/churn/infer',
      ),
    ).toBeInTheDocument();
    expect(within(card).queryByText(/native data plane at/)).toBeNull();
  });

  it('shows the same prediction from the Python SDK and the mlp command line', async () => {
    const card = await endpointsOfLiveModel();
    const sdk = await within(card).findByText(
      /^from ml_platform import Client/,
    );
    await waitFor(() =>
      expect(sdk.textContent).toBe(
        [
          'from ml_platform import Client',
          '',
          'client = Client("https://portal.example.com")  # token: MLP_TOKEN, or `mlp login`',
          'client.predict("churn", [{"tenure_months": 0, "monthly_charges": 0, "total_charges": 0, "contract": "", "support_calls": 0, "has_internet": False}])',
        ].join('\n'),
      ),
    );
    expect(within(card).getByText(/^mlp predict /).textContent).toBe(
      `mlp predict churn -d '[{"tenure_months":0,"monthly_charges":0,"total_charges":0,"contract":"","support_calls":0,"has_internet":false}]'`,
    );
    expect(
      within(card).getByRole('button', { name: 'Copy Python SDK example' }),
    ).toBeInTheDocument();
    expect(
      within(card).getByRole('button', { name: 'Copy mlp command' }),
    ).toBeInTheDocument();
  });

  it('shows the single-tensor V2 form for a model that takes a 2-D array', async () => {
    const arrayBuild = build(2, { manifest: ndarrayManifest });
    const api = mockMlPlatformApi({
      getModel: async () =>
        summary({ liveDeployment: deployment({ buildId: arrayBuild.id }) }),
      getBuild: async () => arrayBuild,
      listExecutions: async () => [],
    });
    await renderForEntity(<EntityMlPlatformContent />, { api });

    const card = await cardOf('Endpoints');
    const curl = await within(card).findByText(
      /^curl -X POST '[^']*\/v2\/models\/churn\/infer'/,
    );
    expect(curl.textContent).toContain(
      `-d '{"parameters":{"content_type":"np"},"inputs":[{"name":"input-0","shape":[1,3],"datatype":"FP64","data":[[0,0,0]]}]}'`,
    );
    expect(within(card).getByText(/send every input as one/)).toHaveTextContent(
      'This model takes a 2-D array: send every input as one [N, 3] tensor, columns in this order: sepal_length, petal_length, stems.',
    );
  });

  it('says what is missing for a model never built nor deployed', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary({ registered: false }),
      listExecutions: async () => [],
      getModelMetrics: async () => quietMetrics(),
    });
    await renderForEntity(<EntityMlPlatformContent />, { api });
    expect(await screen.findByText('Never built.')).toBeInTheDocument();
    expect(screen.getByText(/Not deployed online/)).toBeInTheDocument();
    expect(screen.getByText('No execution is running.')).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Build the model' }),
    ).toHaveAttribute('href', '/?tab=builds');
    expect(api.getBuild).not.toHaveBeenCalled();
  });

  it('shows the API error', async () => {
    const api = mockMlPlatformApi({
      getModel: async () =>
        Promise.reject(await responseError(403, 'not allowed to read churn')),
      listExecutions: async () => [],
    });
    await renderForEntity(<EntityMlPlatformContent />, { api });
    expect(
      (await screen.findAllByText(/not allowed to read churn/)).length,
    ).toBeGreaterThan(0);
    expect(screen.getByText(/403: NotAllowedError/)).toBeInTheDocument();
  });

  it('shows the last hour’s health with sparklines, linking to Monitoring', async () => {
    const getModelMetrics = jest.fn(async () => modelMetrics());
    const api = mockMlPlatformApi({
      getModel: async () => summary({ liveDeployment: live }),
      getBuild: async () => liveBuild,
      listExecutions: async () => [],
      getModelMetrics,
    });
    await renderForEntity(<EntityMlPlatformContent />, { api });
    const card = await cardOf('Health, last hour');
    expect(await within(card).findByLabelText('Requests/s')).toHaveTextContent(
      '7/s',
    );
    expect(within(card).getByLabelText('p95 latency')).toHaveTextContent(
      '19 ms',
    );
    expect(within(card).getByLabelText('Error ratio')).toHaveTextContent('5%');
    const sparkline = within(card).getByRole('img', {
      name: 'Requests/s over the last hour',
    });
    expect(sparkline.querySelectorAll('path.recharts-line-curve')).toHaveLength(
      1,
    );
    expect(
      within(card).getByRole('link', { name: /Monitoring/ }),
    ).toHaveAttribute('href', '/?tab=monitoring');
    const [, query] = getModelMetrics.mock.calls[0] as unknown as [
      unknown,
      { from: Date },
    ];
    expect(Date.now() - query.from.getTime()).toBeCloseTo(3_600_000, -4);
  });

  it('says when the last hour had no calls', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary({ liveDeployment: live }),
      getBuild: async () => liveBuild,
      listExecutions: async () => [],
      getModelMetrics: async () => quietMetrics(),
    });
    await renderForEntity(<EntityMlPlatformContent />, { api });
    const card = await cardOf('Health, last hour');
    expect(
      await within(card).findByText('No calls in the last hour.'),
    ).toBeInTheDocument();
    expect(
      within(card).getByRole('link', { name: 'Try it from the Try it tab' }),
    ).toHaveAttribute('href', '/?tab=try-it');
  });
});
