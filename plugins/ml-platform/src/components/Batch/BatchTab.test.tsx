import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  build,
  nonOwner,
  NOT_AN_OWNER,
  deployment,
  execution,
  mockMlPlatformApi,
  renderForEntity,
  responseError,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

const v2 = build(2);
const v3 = build(3);
const batchDeployment = deployment({
  id: 'dep-batch-1',
  type: 'batch',
  buildId: v2.id,
  batch: { chunkSize: 1000, parallelism: 4, maxRetries: 3 },
});
const running = execution();
const succeeded = execution({
  id: 'exec-3333-4444',
  status: 'succeeded',
  rowsDone: 10000,
  chunksDone: 10,
  rowsPerSecond: undefined,
  etaSeconds: undefined,
  output: { type: 'file', format: 'jsonl' },
  finishedAt: '2026-11-26T10:02:00Z',
});
const failed = execution({
  id: 'exec-5555-6666',
  status: 'failed',
  error: '2 chunks failed after 3 attempts',
  rowsDone: 8000,
  rowsFailed: 2000,
  chunksDone: 8,
  chunksFailed: 2,
  output: { type: 'table', connection: 'warehouse', table: 'churn_scores' },
});

function renderBatch(api: ReturnType<typeof mockMlPlatformApi>) {
  return renderForEntity(<EntityMlPlatformContent />, {
    api,
    route: '/?tab=batch',
  });
}

const baseApi = {
  listBuilds: async () => ({ items: [v3, v2], totalCount: 2 }),
  listDeployments: async () => [batchDeployment],
};

describe('Batch tab', () => {
  it('shows each execution’s progress, rate, ETA and status', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      listExecutions: async () => [running, succeeded, failed],
    });
    await renderBatch(api);

    const bar = await screen.findByRole('progressbar', {
      name: `Progress of execution ${running.id}`,
    });
    expect(bar).toHaveAttribute('aria-valuenow', '40');
    const row = bar.closest('tr')!;
    expect(
      within(row).getByText(
        '4,000 / 10,000 rows · 4/10 chunks · 1,234.5 rows/s · ETA 2m 05s',
      ),
    ).toBeInTheDocument();
    expect(within(row).getByText('v2')).toBeInTheDocument();
    expect(
      within(row).getByText('upload (csv) → csv file'),
    ).toBeInTheDocument();

    const failedRow = screen
      .getByText('2 chunks failed after 3 attempts')
      .closest('tr')!;
    expect(
      within(failedRow).getByText('2,000 rows in 2 chunks failed'),
    ).toBeInTheDocument();
    expect(
      within(failedRow).getByText(
        'upload (csv) → table churn_scores on warehouse',
      ),
    ).toBeInTheDocument();
    // A table output has no file to download.
    expect(
      within(failedRow).queryByRole('button', { name: 'Download' }),
    ).toBeNull();
  });

  it('moves the progress bar as the execution advances', async () => {
    jest.useFakeTimers();
    try {
      const api = mockMlPlatformApi({
        ...baseApi,
        listExecutions: jest
          .fn()
          .mockResolvedValueOnce([running])
          .mockResolvedValue([{ ...running, rowsDone: 9000, chunksDone: 9 }]),
      });
      await renderBatch(api);
      const bar = await screen.findByRole('progressbar', {
        name: `Progress of execution ${running.id}`,
      });
      expect(bar).toHaveAttribute('aria-valuenow', '40');
      await act(async () => {
        jest.advanceTimersByTime(2000);
      });
      await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', '90'));
    } finally {
      jest.useRealTimers();
    }
  });

  it('does not poll while the page is hidden', async () => {
    jest.useFakeTimers();
    const visibility = jest
      .spyOn(document, 'visibilityState', 'get')
      .mockReturnValue('hidden');
    try {
      const api = mockMlPlatformApi({
        ...baseApi,
        listExecutions: jest.fn().mockResolvedValue([running]),
      });
      await renderBatch(api);
      await screen.findByRole('progressbar', {
        name: `Progress of execution ${running.id}`,
      });
      await act(async () => {
        jest.advanceTimersByTime(10000);
      });
      expect(api.listExecutions).toHaveBeenCalledTimes(1);

      visibility.mockReturnValue('visible');
      await act(async () => {
        document.dispatchEvent(new Event('visibilitychange'));
      });
      expect(api.listExecutions).toHaveBeenCalledTimes(2);
    } finally {
      visibility.mockRestore();
      jest.useRealTimers();
    }
  });

  it('starts an execution on an uploaded file', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      listExecutions: jest
        .fn()
        .mockResolvedValueOnce([])
        .mockResolvedValue([running]),
      uploadInput: async () => ({
        uploadId: 'up-42',
        filename: 'customers.csv',
        size: 23,
        format: 'csv',
      }),
      createExecution: async () => running,
    });
    await renderBatch(api);

    expect(await screen.findByText('No executions yet')).toBeInTheDocument();
    const start = screen.getByRole('button', { name: 'Start execution' });
    await waitFor(() => expect(start).toBeEnabled());
    await userEvent.click(start);
    const dialog = await screen.findByRole('dialog', {
      name: 'Start a batch execution',
    });

    const file = new File(
      ['tenure_months,contract\n3,one-year\n'],
      'customers.csv',
      {
        type: 'text/csv',
      },
    );
    await userEvent.upload(within(dialog).getByLabelText('Input file'), file);
    expect(
      within(dialog).getByText(`customers.csv (${file.size} bytes)`),
    ).toBeInTheDocument();
    await userEvent.selectOptions(
      within(dialog).getByLabelText('Format'),
      'parquet',
    );
    await userEvent.type(
      within(dialog).getByLabelText('Parallelism (optional)'),
      '8',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Start' }),
    );

    await waitFor(() => expect(api.createExecution).toHaveBeenCalled());
    expect(api.uploadInput).toHaveBeenCalledWith(
      { namespace: 'default', name: 'churn' },
      file,
      'customers.csv',
    );
    expect(api.createExecution).toHaveBeenCalledWith(
      { namespace: 'default', name: 'churn' },
      {
        deploymentId: batchDeployment.id,
        input: { type: 'upload', uploadId: 'up-42', format: 'csv' },
        output: { type: 'file', format: 'parquet' },
        parallelism: 8,
      },
    );
    expect(
      await screen.findByRole('progressbar', {
        name: `Progress of execution ${running.id}`,
      }),
    ).toBeInTheDocument();
  });

  it('starts an execution of a build from a URL into a table', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      listDeployments: async () => [],
      listExecutions: async () => [],
      createExecution: async () => running,
    });
    await renderBatch(api);
    const start = await screen.findByRole('button', {
      name: 'Start execution',
    });
    await waitFor(() => expect(start).toBeEnabled());
    await userEvent.click(start);
    const dialog = await screen.findByRole('dialog', {
      name: 'Start a batch execution',
    });

    await userEvent.selectOptions(
      within(dialog).getByLabelText('Model'),
      `build:${v2.id}`,
    );
    await userEvent.click(within(dialog).getByLabelText('URL'));
    await userEvent.type(
      within(dialog).getByRole('textbox', { name: 'URL' }),
      'ftp://x',
    );
    await userEvent.click(within(dialog).getByLabelText('Database table'));
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Start' }),
    );
    expect(
      within(dialog).getByText('expected an http(s) URL'),
    ).toBeInTheDocument();
    expect(
      within(dialog).getByText('enter a connection name'),
    ).toBeInTheDocument();
    expect(api.createExecution).not.toHaveBeenCalled();

    const url = within(dialog).getByRole('textbox', { name: 'URL' });
    await userEvent.clear(url);
    await userEvent.type(url, 'https://data.example.com/customers.jsonl');
    await userEvent.type(
      within(dialog).getByLabelText('Connection'),
      'warehouse',
    );
    await userEvent.type(
      within(dialog).getByLabelText('Table'),
      'churn_scores',
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Start' }),
    );

    await waitFor(() =>
      expect(api.createExecution).toHaveBeenCalledWith(expect.anything(), {
        buildId: v2.id,
        input: { type: 'url', url: 'https://data.example.com/customers.jsonl' },
        output: {
          type: 'table',
          connection: 'warehouse',
          table: 'churn_scores',
        },
      }),
    );
  });

  it('shows a failed upload in the dialog', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      listExecutions: async () => [],
      uploadInput: async () =>
        Promise.reject(
          await responseError(
            413,
            'upload over 512 MiB',
            'PayloadTooLargeError',
          ),
        ),
    });
    await renderBatch(api);
    const start = await screen.findByRole('button', {
      name: 'Start execution',
    });
    await waitFor(() => expect(start).toBeEnabled());
    await userEvent.click(start);
    const dialog = await screen.findByRole('dialog', {
      name: 'Start a batch execution',
    });
    await userEvent.upload(
      within(dialog).getByLabelText('Input file'),
      new File(['x'], 'big.parquet'),
    );
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Start' }),
    );
    expect(
      (await within(dialog).findAllByText(/upload over 512 MiB/)).length,
    ).toBeGreaterThan(0);
    expect(api.createExecution).not.toHaveBeenCalled();
  });

  it('cancels a running execution', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      listExecutions: jest
        .fn()
        .mockResolvedValueOnce([running])
        .mockResolvedValue([{ ...running, status: 'cancelled' }]),
      cancelExecution: async () => ({ ...running, status: 'cancelled' }),
    });
    await renderBatch(api);
    const bar = await screen.findByRole('progressbar', {
      name: `Progress of execution ${running.id}`,
    });
    const row = bar.closest('tr')!;
    await userEvent.click(within(row).getByRole('button', { name: 'Cancel' }));
    await waitFor(() =>
      expect(api.cancelExecution).toHaveBeenCalledWith(running.id),
    );
    expect(await screen.findByText('cancelled')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('downloads a file result through an object URL', async () => {
    const blob = new Blob(['{"churn": true}\n']);
    const api = mockMlPlatformApi({
      ...baseApi,
      listExecutions: async () => [succeeded],
      downloadExecutionResult: async () => blob,
    });
    const createObjectURL = jest.fn(() => 'blob:result');
    const revokeObjectURL = jest.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const clicked: HTMLAnchorElement[] = [];
    const click = jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function recordClick(this: HTMLAnchorElement) {
        clicked.push(this);
      });
    try {
      await renderBatch(api);
      await userEvent.click(
        await screen.findByRole('button', { name: 'Download' }),
      );
      await waitFor(() => expect(clicked).toHaveLength(1));
      expect(api.downloadExecutionResult).toHaveBeenCalledWith(succeeded.id);
      expect(createObjectURL).toHaveBeenCalledWith(blob);
      expect(clicked[0].href).toBe('blob:result');
      expect(clicked[0].download).toBe('churn-exec-333-predictions.jsonl');
    } finally {
      click.mockRestore();
    }
  });

  it('lists the failed chunks with their errors', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      listExecutions: async () => [failed],
      listExecutionChunks: async () => [
        {
          seq: 3,
          rowStart: 3000,
          rowEnd: 4000,
          status: 'failed',
          attempts: 3,
          error: "KeyError: 'tenure_months'",
        },
      ],
    });
    await renderBatch(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Failed chunks' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Failed chunks',
    });
    expect(
      await within(dialog).findByText("KeyError: 'tenure_months'"),
    ).toBeInTheDocument();
    expect(within(dialog).getByText('3,000–3,999')).toBeInTheDocument();
    expect(api.listExecutionChunks).toHaveBeenCalledWith(failed.id, 'failed');
  });

  it('disables Start and Cancel with the reason when permissions deny', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      getModelPermissions: async () => nonOwner,
      listExecutions: async () => [running],
    });
    await renderBatch(api);
    const start = await screen.findByRole('button', {
      name: 'Start execution',
    });
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Cancel' })).toBeDisabled(),
    );
    expect(start).toBeDisabled();
    await userEvent.hover(start.parentElement!);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(NOT_AN_OWNER);
  });

  it('shows the API error', async () => {
    const api = mockMlPlatformApi({
      ...baseApi,
      listExecutions: async () =>
        Promise.reject(
          await responseError(
            503,
            'batch dispatcher is down',
            'ServiceUnavailableError',
          ),
        ),
    });
    await renderBatch(api);
    expect(
      (await screen.findAllByText(/batch dispatcher is down/)).length,
    ).toBeGreaterThan(0);
  });
});
