import http from 'node:http';
import { AddressInfo } from 'node:net';
import { GatewayTimeoutError } from './errors';
import { ReplicaClient, isRetryable } from './ReplicaClient';

/** A replica stand-in: a real HTTP server answering as `answer` says. */
async function replica(answer: http.RequestListener) {
  const server = http.createServer(answer);
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise(r => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

describe('ReplicaClient', () => {
  const client = new ReplicaClient(300);
  afterAll(() => client.close());

  it('posts the body and returns the answer whole, over kept-alive connections', async () => {
    const sockets = new Set<unknown>();
    const echo = await replica((req, res) => {
      sockets.add(req.socket);
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            path: req.url,
            type: req.headers['content-type'],
            got: Buffer.concat(chunks).toString(),
          }),
        );
      });
    });
    for (let i = 0; i < 10; i++) {
      const answer = await client.send(
        echo.url,
        '/v2/models/m/infer',
        Buffer.from(`{"i":${i}}`),
      );
      expect(answer.status).toBe(201);
      expect(JSON.parse(answer.body.toString())).toEqual({
        path: '/v2/models/m/infer',
        type: 'application/json',
        got: `{"i":${i}}`,
      });
    }
    // Kept alive (a second connection may open while the first is released).
    expect(sockets.size).toBeLessThanOrEqual(2);
    await echo.close();
  });

  it('gives up on a replica that does not answer in time with a 504', async () => {
    const silent = await replica(() => {});
    const error = await client
      .send(silent.url, '/invocations', Buffer.from('{}'))
      .catch(e => e);
    expect(error).toBeInstanceOf(GatewayTimeoutError);
    expect(error).toMatchObject({
      statusCode: 504,
      message: 'The model did not answer within 0.3 s',
    });
    expect(isRetryable(error)).toBe(false);
    await silent.close();
  });

  it('says when another replica may be tried: refused or dropped connections', async () => {
    const gone = await replica(() => {});
    await gone.close();
    const refused = await client
      .send(gone.url, '/invocations', Buffer.from('{}'))
      .catch(e => e);
    expect(refused.code).toBe('ECONNREFUSED');
    expect(isRetryable(refused)).toBe(true);

    const dropping = await replica(req => req.socket.destroy());
    const dropped = await client
      .send(dropping.url, '/invocations', Buffer.from('{}'))
      .catch(e => e);
    expect(isRetryable(dropped)).toBe(true);
    await dropping.close();
  });
});
