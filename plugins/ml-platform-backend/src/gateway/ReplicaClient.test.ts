import http from 'node:http';
import net, { AddressInfo } from 'node:net';
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

  /** A replica stand-in speaking raw HTTP: `answer` writes the bytes. */
  async function rawReplica(
    answer: (socket: net.Socket, request: string) => void,
  ) {
    const sockets = new Set<net.Socket>();
    const server = net.createServer(socket => {
      sockets.add(socket);
      let text = '';
      socket.on('data', d => {
        text += d.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
        if (end >= 0 && text.length >= end + 4 + length) {
          const request = text;
          text = '';
          answer(socket, request);
        }
      });
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      sockets,
      close: () =>
        new Promise(r => {
          for (const s of sockets) s.destroy();
          server.close(r);
        }),
    };
  }

  it('reads answers split anywhere, close-delimited ones, and Connection: close', async () => {
    const body = JSON.stringify({ predictions: [0.25, 0.75] });
    const answer = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const split = await rawReplica(socket => {
      // One byte at a time, across the head and the body.
      let i = 0;
      const next = () => {
        if (i < answer.length) {
          socket.write(answer[i++]);
          setImmediate(next);
        }
      };
      next();
    });
    for (let n = 0; n < 3; n++) {
      const r = await client.send(split.url, '/x', Buffer.from('{}'));
      expect({ status: r.status, body: r.body.toString() }).toEqual({
        status: 200,
        body,
      });
    }
    expect(split.sockets.size).toBe(1);
    await split.close();

    const closing = await rawReplica(socket => {
      socket.end(`HTTP/1.0 500 Internal Server Error\r\n\r\n{"error":"boom"}`);
    });
    const r1 = await client.send(closing.url, '/x', Buffer.from('{}'));
    const r2 = await client.send(closing.url, '/x', Buffer.from('{}'));
    expect([r1.status, r1.body.toString(), r2.status]).toEqual([
      500,
      '{"error":"boom"}',
      500,
    ]);
    expect(closing.sockets.size).toBe(2);
    await closing.close();
  });

  it('sends large bodies whole, opens a new connection after the replica closed an idle one', async () => {
    const seen: number[] = [];
    const echo = await rawReplica((socket, request) => {
      const length = Number(/content-length: (\d+)/i.exec(request)![1]);
      seen.push(length);
      const answer = JSON.stringify({
        length,
        host: /host: (.*)\r/i.exec(request)![1],
      });
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Length: ${answer.length}\r\n\r\n${answer}`,
      );
    });
    const large = Buffer.alloc(100_000, 'a');
    const r = await client.send(echo.url, '/x', large);
    expect(JSON.parse(r.body.toString())).toEqual({
      length: 100_000,
      host: new URL(echo.url).host,
    });
    // The replica drops the kept-alive connection while it is idle.
    for (const socket of echo.sockets) socket.destroy();
    await new Promise(resolve => setTimeout(resolve, 50));
    const again = await client.send(echo.url, '/x', Buffer.from('{}'));
    expect(again.status).toBe(200);
    // Concurrent calls each get a connection.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.send(echo.url, '/x', Buffer.from(`{"i":${i}}`)),
      ),
    );
    expect(answers.map(a => a.status)).toEqual(new Array(20).fill(200));
    expect(seen).toHaveLength(22);
    await echo.close();
  });
});
