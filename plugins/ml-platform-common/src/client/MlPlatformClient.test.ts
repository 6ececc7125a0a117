import http from 'node:http';
import { AddressInfo } from 'node:net';
import { ResponseError } from '@backstage/errors';
import { MlPlatformClient } from './MlPlatformClient';

describe('MlPlatformClient', () => {
  let server: http.Server;
  let baseUrl: string;
  const seen: { url?: string; auth?: string }[] = [];
  /** What streamed requests sent. */
  const received: {
    url?: string;
    body: string;
    headers: http.IncomingHttpHeaders;
  }[] = [];
  /** Lets the streamed log go on once the test has read its first line. */
  let releaseLog: () => void = () => {};

  beforeAll(async () => {
    server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      seen.push({ url: req.url, auth: req.headers.authorization });
      received.push({
        url: req.url,
        body: Buffer.concat(chunks).toString(),
        headers: req.headers,
      });
      if (req.url === '/api/ml-platform/builds/b1/logs?follow=true') {
        res.setHeader('Content-Type', 'text/plain');
        res.write('==> checkout\nclon');
        await new Promise<void>(resolve => {
          releaseLog = resolve;
        });
        res.end('ed\nBuild succeeded');
        return;
      }
      if (
        req.url ===
        '/api/ml-platform/models/default/churn/uploads?filename=rows.csv'
      ) {
        res.statusCode = 201;
        res.setHeader('Content-Type', 'application/json');
        res.end(
          JSON.stringify({
            uploadId: 'u1',
            filename: 'rows.csv',
            size: chunks.reduce((n, c) => n + c.length, 0),
            format: 'csv',
          }),
        );
        return;
      }
      if (req.url === '/api/ml-platform/executions/e1/result') {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader(
          'Content-Disposition',
          'attachment; filename="churn-e1.csv"',
        );
        res.end('row_id,p\n0,0.5\n');
        return;
      }
      if (req.url === '/api/ml-platform/v2/models/churn/infer') {
        res.statusCode = 503;
        res.setHeader('Content-Type', 'application/json');
        res.end(
          JSON.stringify({
            error: { name: 'ServiceUnavailableError', message: 'no replica' },
          }),
        );
        return;
      }
      res.setHeader('Content-Type', 'application/json');
      if (req.url === '/api/ml-platform/models') {
        res.end(
          JSON.stringify({ items: [{ ref: 'component:default/churn' }] }),
        );
      } else if (req.url?.startsWith('/api/ml-platform/models/traffic')) {
        res.end(
          JSON.stringify({ items: [{ ref: 'component:default/churn' }] }),
        );
      } else if (req.url?.includes('/metrics')) {
        res.end(JSON.stringify({ source: 'embedded' }));
      } else {
        res.statusCode = 404;
        res.end(
          JSON.stringify({
            error: { name: 'NotFoundError', message: 'no model x' },
            request: { method: req.method, url: req.url },
            response: { statusCode: 404 },
          }),
        );
      }
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${
      (server.address() as AddressInfo).port
    }/api/ml-platform`;
  });
  afterAll(() => new Promise(resolve => server.close(resolve)));

  const client = () =>
    new MlPlatformClient({
      discoveryApi: { getBaseUrl: async () => baseUrl },
      fetchApi: {
        fetch: (input, init) =>
          fetch(input, {
            ...init,
            headers: { ...init?.headers, Authorization: 'Bearer t' },
          }),
      },
    });

  it('lists models through the given fetch', async () => {
    await expect(client().listModels()).resolves.toEqual([
      { ref: 'component:default/churn' },
    ]);
    expect(seen.at(-1)).toEqual({
      url: '/api/ml-platform/models',
      auth: 'Bearer t',
    });
  });

  it('streams a followed log line by line as it is written', async () => {
    const lines = client().followBuildLog('b1')[Symbol.asyncIterator]();
    // The first line arrives while the server still holds the rest back.
    await expect(lines.next()).resolves.toEqual({
      value: '==> checkout',
      done: false,
    });
    expect(received.at(-1)?.headers['accept-encoding']).toBe('identity');
    releaseLog();
    const rest: string[] = [];
    for (let r = await lines.next(); !r.done; r = await lines.next())
      rest.push(r.value);
    expect(rest).toEqual(['cloned', 'Build succeeded']);
  });

  it('uploads a stream as it is read and reads a result as a stream', async () => {
    const parts = ['a,b\n', '1,2\n'];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    await expect(
      client().uploadInput(
        { namespace: 'default', name: 'churn' },
        body,
        'rows.csv',
      ),
    ).resolves.toEqual({
      uploadId: 'u1',
      filename: 'rows.csv',
      size: 8,
      format: 'csv',
    });
    expect(received.at(-1)).toMatchObject({
      body: 'a,b\n1,2\n',
      headers: expect.objectContaining({
        'content-type': 'application/octet-stream',
        'transfer-encoding': 'chunked',
      }),
    });

    const result = await client().readExecutionResult('e1');
    expect(result).toMatchObject({
      contentType: 'text/csv; charset=utf-8',
      filename: 'churn-e1.csv',
    });
    expect(await new Response(result.body).text()).toBe('row_id,p\n0,0.5\n');
  });

  it('answers V2 infer calls with their status, errors included', async () => {
    const result = await client().infer('churn', { inputs: [] });
    expect(result).toMatchObject({
      status: 503,
      body: { error: { message: 'no replica' } },
    });
  });

  it('turns error responses into ResponseError with the server message', async () => {
    const error = await client()
      .getModel({ namespace: 'default', name: 'x y' })
      .catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.statusCode).toBe(404);
    expect(error.body.error.message).toBe('no model x');
    expect(error.message).toBe('Request failed with 404 Not Found: no model x');
    expect(seen.at(-1)?.url).toBe('/api/ml-platform/models/default/x%20y');
  });

  it('asks for metrics with the range in Unix seconds and the filters', async () => {
    await expect(
      client().getModelMetrics(
        { namespace: 'default', name: 'churn' },
        {
          from: new Date('2026-12-03T10:00:00Z'),
          to: new Date('2026-12-03T11:00:00Z'),
          stepSeconds: 60,
          deploymentId: 'd 1',
          version: 3,
        },
      ),
    ).resolves.toEqual({ source: 'embedded' });
    expect(seen.at(-1)?.url).toBe(
      '/api/ml-platform/models/default/churn/metrics?from=1796292000&to=1796295600&step=60&deployment=d+1&version=3',
    );
    await client().getModelMetrics({ namespace: 'default', name: 'churn' });
    expect(seen.at(-1)?.url).toBe(
      '/api/ml-platform/models/default/churn/metrics',
    );
    await expect(client().listModelTraffic('6h')).resolves.toEqual([
      { ref: 'component:default/churn' },
    ]);
    expect(seen.at(-1)?.url).toBe('/api/ml-platform/models/traffic?window=6h');
  });
});
