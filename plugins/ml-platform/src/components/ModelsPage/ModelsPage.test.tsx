import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { ResponseError } from '@backstage/errors';
import { TestApiProvider, renderInTestApp } from '@backstage/test-utils';
import {
  MlPlatformApi,
  ModelSummary,
} from '@internal/plugin-ml-platform-common';
import { act, screen, within } from '@testing-library/react';
import { mlPlatformApiRef } from '../../api';
import { ModelsPage } from './ModelsPage';

const churn: ModelSummary = {
  ref: 'component:default/churn',
  namespace: 'default',
  name: 'churn',
  title: 'Churn classifier',
  owner: 'group:default/data-science',
  tags: [],
  platform: {
    registered: true,
    runningExecutions: 2,
    latestBuild: {
      id: 'b3',
      modelRef: 'component:default/churn',
      version: 3,
      status: 'failed',
      trigger: 'push',
      steps: [],
      createdAt: '2026-11-26T10:00:00Z',
    },
    liveDeployment: {
      id: 'd1',
      modelRef: 'component:default/churn',
      buildId: 'b2',
      type: 'online',
      status: 'ready',
      replicas: 2,
      minReplicas: 0,
      maxReplicas: 4,
      readyReplicas: 2,
      createdAt: '2026-11-26T10:00:00Z',
      updatedAt: '2026-11-26T10:00:00Z',
    },
  },
};

const sentiment: ModelSummary = {
  ref: 'component:nlp/sentiment',
  namespace: 'nlp',
  name: 'sentiment',
  owner: 'user:default/ada',
  tags: [],
  platform: { registered: false, runningExecutions: 0 },
};

function renderWith(api: Partial<MlPlatformApi>) {
  return renderInTestApp(
    <TestApiProvider
      apis={[[mlPlatformApiRef, { listModelTraffic: async () => [], ...api }]]}
    >
      <ModelsPage />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

describe('ModelsPage', () => {
  it('lists each model with owner, latest build and live deployment', async () => {
    await renderWith({ listModels: async () => [churn, sentiment] });

    expect(await screen.findByText('Models (2)')).toBeInTheDocument();
    const link = screen.getByRole('link', { name: 'Churn classifier' });
    expect(link).toHaveAttribute('href', '/catalog/default/component/churn');
    expect(screen.getByText('data-science')).toBeInTheDocument();
    expect(screen.getByText('v3 failed')).toBeInTheDocument();
    expect(screen.getByText('ready (2/2 ready)')).toBeInTheDocument();
    expect(screen.getByText('never built')).toBeInTheDocument();
    expect(screen.getByText('not deployed')).toBeInTheDocument();
  });

  it('links statuses to the model’s ML Platform tab', async () => {
    await renderWith({
      listModels: async () => [
        { ...churn, description: 'Scores churn risk' },
        sentiment,
      ],
    });
    expect(await screen.findByText('Scores churn risk')).toBeInTheDocument();
    // Status icons hide their text from the accessibility tree.
    expect(screen.getByText('v3 failed').closest('a')).toHaveAttribute(
      'href',
      '/catalog/default/component/churn/ml-platform?build=b3',
    );
    expect(screen.getByText('ready (2/2 ready)').closest('a')).toHaveAttribute(
      'href',
      '/catalog/default/component/churn/ml-platform?tab=deployments',
    );
    const churnRow = screen.getByText('Scores churn risk').closest('tr')!;
    expect(within(churnRow).getByRole('link', { name: '2' })).toHaveAttribute(
      'href',
      '/catalog/default/component/churn/ml-platform?tab=batch',
    );
  });

  it('refreshes the statuses without a reload', async () => {
    jest.useFakeTimers();
    try {
      const deployed = {
        ...churn,
        platform: {
          ...churn.platform,
          latestBuild: {
            ...churn.platform.latestBuild!,
            status: 'succeeded' as const,
          },
        },
      };
      const listModels = jest
        .fn()
        .mockResolvedValueOnce([churn])
        .mockResolvedValue([deployed]);
      await renderWith({ listModels });
      expect(await screen.findByText('v3 failed')).toBeInTheDocument();
      await act(async () => {
        jest.advanceTimersByTime(2000);
      });
      expect(await screen.findByText('v3 succeeded')).toBeInTheDocument();
    } finally {
      jest.useRealTimers();
    }
  });

  it('says how to create a model when there is none', async () => {
    await renderWith({ listModels: async () => [] });
    expect(await screen.findByText('No models yet')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'New ML model' })).toHaveAttribute(
      'href',
      '/create',
    );
  });

  it('shows the backend error', async () => {
    const response = new Response(
      JSON.stringify({
        error: { name: 'NotAllowedError', message: 'catalog is down' },
        request: { method: 'GET', url: '/api/ml-platform/models' },
        response: { statusCode: 503 },
      }),
      { status: 503, headers: { 'Content-Type': 'application/json' } },
    );
    const error = await ResponseError.fromResponse(response);
    await renderWith({ listModels: async () => Promise.reject(error) });
    expect(
      (await screen.findAllByText(/catalog is down/)).length,
    ).toBeGreaterThan(0);
    expect(screen.getByText(/503: NotAllowedError/)).toBeInTheDocument();
  });

  it('shows each model’s last hour of traffic and errors', async () => {
    const listModelTraffic = jest.fn(async () => [
      {
        ref: 'component:default/churn',
        requests: 9000,
        requestsPerSecond: 2.5,
        errorRatio: 0.012,
        latencyP95: 0.02,
      },
      {
        ref: 'component:nlp/sentiment',
        requests: 0,
        requestsPerSecond: 0,
        errorRatio: null,
        latencyP95: null,
      },
    ]);
    await renderWith({
      listModels: async () => [churn, sentiment],
      listModelTraffic,
    });
    const churnRow = (await screen.findByText('2.5/s')).closest('tr')!;
    expect(within(churnRow).getByText('1.2%')).toBeInTheDocument();
    expect(
      within(churnRow).getByRole('link', { name: '2.5/s' }),
    ).toHaveAttribute(
      'href',
      '/catalog/default/component/churn/ml-platform?tab=monitoring',
    );
    const sentimentRow = screen.getByText('sentiment').closest('tr')!;
    expect(within(sentimentRow).getByText('0/s')).toBeInTheDocument();
    expect(within(sentimentRow).getByText('—')).toBeInTheDocument();
    expect(listModelTraffic).toHaveBeenCalledWith('1h');
  });
});
