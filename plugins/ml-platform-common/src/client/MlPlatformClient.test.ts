import http from 'node:http';
import { AddressInfo } from 'node:net';
import { ResponseError } from '@backstage/errors';
import { MlPlatformClient } from './MlPlatformClient';

describe('MlPlatformClient', () => {
  let server: http.Server;
  let baseUrl: string;
  const seen: { url?: string; auth?: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
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
