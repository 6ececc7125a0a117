import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  build,
  churnManifest,
  deployment,
  lineBreakersIn,
  mockMlPlatformApi,
  ndarrayManifest,
  renderForEntity,
  responseError,
  summary,
} from '../../__testUtils__';
import { EntityMlPlatformContent } from '../EntityMlPlatformContent';

const liveBuild = build(2, { manifest: churnManifest });
const live = deployment({ buildId: liveBuild.id });

function renderTryIt(api: ReturnType<typeof mockMlPlatformApi>) {
  return renderForEntity(<EntityMlPlatformContent />, {
    api,
    route: '/?tab=try-it',
  });
}

describe('Try it tab', () => {
  it('predicts one record from the form and shows the answer, status and latency', async () => {
    const api = mockMlPlatformApi({
      getModel: async () =>
        summary({ liveDeployment: live, latestBuild: build(3) }),
      getBuild: async () => liveBuild,
      predict: async () => ({
        status: 200,
        body: { predictions: [{ churn_probability: 0.81, churn: true }] },
        latencyMs: 12.4,
      }),
    });
    await renderTryIt(api);

    expect(
      await screen.findByText('Input schema of build v2'),
    ).toBeInTheDocument();
    // The schema of the build that serves, not of the newest.
    expect(api.getBuild).toHaveBeenCalledWith(liveBuild.id);
    await userEvent.type(screen.getByLabelText('tenure_months'), '2');
    await userEvent.type(screen.getByLabelText('monthly_charges'), '99.5');
    await userEvent.type(screen.getByLabelText('contract'), 'month-to-month');
    await userEvent.click(screen.getByLabelText('has_internet'));
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));

    await waitFor(() =>
      expect(api.predict).toHaveBeenCalledWith(
        { namespace: 'default', name: 'churn' },
        {
          dataframe_records: [
            {
              tenure_months: 2,
              monthly_charges: 99.5,
              contract: 'month-to-month',
              has_internet: true,
            },
          ],
        },
      ),
    );
    const status = await screen.findByLabelText('Prediction status');
    expect(status).toHaveTextContent('HTTP 200 · 12 ms');
    // One line: the status chip does not push the latency onto the next.
    expect(lineBreakersIn(status)).toEqual([]);
    expect(screen.getByLabelText('Response body')).toHaveTextContent(
      '"churn_probability": 0.81',
    );
  });

  it('blocks a record with a bad value and names the field', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary({ liveDeployment: live }),
      getBuild: async () => liveBuild,
    });
    await renderTryIt(api);
    await userEvent.type(await screen.findByLabelText('tenure_months'), '2.5');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));
    expect(screen.getByText('expected an integer')).toBeInTheDocument();
    expect(api.predict).not.toHaveBeenCalled();
  });

  it('shows a model error as an error, with its message', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary({ liveDeployment: live }),
      getBuild: async () => liveBuild,
      predict: async () => ({
        status: 400,
        body: {
          error: {
            name: 'InputError',
            message: "column 'tenure_months' is missing",
          },
        },
        latencyMs: 3,
      }),
    });
    await renderTryIt(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Predict' }),
    );
    expect(
      await screen.findByText(/The model answered 400/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText(/column 'tenure_months' is missing/).length,
    ).toBeGreaterThan(0);
    expect(screen.getByLabelText('Prediction status')).toHaveTextContent(
      'HTTP 400',
    );
  });

  it('edits the raw body, prefilled from the form', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary({ liveDeployment: live }),
      getBuild: async () => liveBuild,
      predict: async () => ({
        status: 200,
        body: { predictions: [0.2] },
        latencyMs: 8,
      }),
    });
    await renderTryIt(api);
    await userEvent.type(await screen.findByLabelText('support_calls'), '4');
    await userEvent.click(screen.getByRole('tab', { name: 'JSON' }));

    const editor = screen.getByLabelText('Request body');
    expect(JSON.parse((editor as HTMLTextAreaElement).value)).toEqual({
      dataframe_records: [{ support_calls: 4, has_internet: false }],
    });
    await userEvent.clear(editor);
    await userEvent.click(editor);
    await userEvent.paste('{"instances": [[1, 2]]}');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));
    await waitFor(() =>
      expect(api.predict).toHaveBeenCalledWith(expect.anything(), {
        instances: [[1, 2]],
      }),
    );
  });

  it('calls a model that takes a 2-D array with one [1, F] tensor (Open Inference Protocol)', async () => {
    const arrayBuild = build(4, { manifest: ndarrayManifest });
    const api = mockMlPlatformApi({
      getModel: async () =>
        summary({ liveDeployment: deployment({ buildId: arrayBuild.id }) }),
      getBuild: async () => arrayBuild,
      infer: async () => ({
        status: 200,
        body: {
          outputs: [
            { name: 'predictions', shape: [1], datatype: 'FP64', data: [2.5] },
          ],
        },
        latencyMs: 5,
      }),
    });
    await renderTryIt(api);
    await userEvent.type(await screen.findByLabelText('sepal_length'), '5.1');
    await userEvent.type(screen.getByLabelText('petal_length'), '1.4');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));
    // A matrix has no gaps: the empty field is named, nothing is sent.
    expect(
      screen.getByText('required: the model takes every input'),
    ).toBeInTheDocument();
    expect(api.infer).not.toHaveBeenCalled();

    await userEvent.type(screen.getByLabelText('stems'), '2');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));
    const body = {
      parameters: { content_type: 'np' },
      inputs: [
        {
          name: 'input-0',
          shape: [1, 3],
          datatype: 'FP64',
          data: [[5.1, 1.4, 2]],
        },
      ],
    };
    await waitFor(() => expect(api.infer).toHaveBeenCalledWith('churn', body));
    expect(api.predict).not.toHaveBeenCalled();
    expect(await screen.findByLabelText('Response body')).toHaveTextContent(
      '"data": [ 2.5 ]',
    );

    // The body editor shows the same single-tensor form.
    await userEvent.click(screen.getByRole('tab', { name: 'JSON' }));
    const editor = screen.getByLabelText('Request body');
    expect(JSON.parse((editor as HTMLTextAreaElement).value)).toEqual(body);
    expect(
      screen.getByText(/every input in one \[N, 3\] tensor/),
    ).toHaveTextContent('sepal_length, petal_length, stems');
  });

  it('sends an Open Inference Protocol body typed into the editor to the V2 route', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary({ liveDeployment: live }),
      getBuild: async () => liveBuild,
      infer: async () => ({ status: 200, body: { outputs: [] }, latencyMs: 3 }),
    });
    await renderTryIt(api);
    await userEvent.click(await screen.findByRole('tab', { name: 'JSON' }));
    const editor = screen.getByLabelText('Request body');
    await userEvent.clear(editor);
    await userEvent.click(editor);
    const tensors = {
      inputs: [
        { name: 'tenure_months', shape: [1], datatype: 'INT64', data: [3] },
      ],
    };
    await userEvent.paste(JSON.stringify(tensors));
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));
    await waitFor(() =>
      expect(api.infer).toHaveBeenCalledWith(expect.anything(), tensors),
    );
    expect(api.predict).not.toHaveBeenCalled();
  });

  it('falls back to the JSON editor when the build carries no schema', async () => {
    const bare = build(2);
    const api = mockMlPlatformApi({
      getModel: async () => summary({ latestBuild: bare }),
      getBuild: async () => bare,
      predict: async () => ({
        status: 503,
        body: {
          error: {
            name: 'ServiceUnavailableError',
            message: 'no online deployment',
          },
        },
        latencyMs: 2,
      }),
    });
    await renderTryIt(api);
    expect(await screen.findByText(/No online deployment/)).toBeInTheDocument();
    expect(screen.queryByRole('tab', { name: 'Form' })).toBeNull();
    const editor = screen.getByLabelText('Request body');
    expect(JSON.parse((editor as HTMLTextAreaElement).value)).toEqual({
      dataframe_records: [{}],
    });

    await userEvent.type(editor, 'oops');
    await userEvent.click(screen.getByRole('button', { name: 'Predict' }));
    expect(screen.getByText(/^Not valid JSON/)).toBeInTheDocument();
    expect(api.predict).not.toHaveBeenCalled();
  });

  it('shows a transport failure as an error panel', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary({ liveDeployment: live }),
      getBuild: async () => liveBuild,
      predict: async () =>
        Promise.reject(
          await responseError(
            401,
            'missing credentials',
            'AuthenticationError',
          ),
        ),
    });
    await renderTryIt(api);
    await userEvent.click(
      await screen.findByRole('button', { name: 'Predict' }),
    );
    expect(
      (await screen.findAllByText(/missing credentials/)).length,
    ).toBeGreaterThan(0);
  });

  it('shows the API error when the model cannot be read', async () => {
    const api = mockMlPlatformApi({
      getModel: async () =>
        Promise.reject(
          await responseError(404, 'no model default/churn', 'NotFoundError'),
        ),
    });
    await renderTryIt(api);
    const panel = await screen.findByText(/404: NotFoundError/);
    expect(panel).toBeInTheDocument();
    expect(
      within(document.body).getAllByText(/no model default\/churn/).length,
    ).toBeGreaterThan(0);
  });
});
