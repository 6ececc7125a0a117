import http from 'node:http';

/**
 * A stand-in for Loki's push endpoint, checking bodies as Loki does:
 * `streams` of label sets (valid names, string values) and `values` of
 * `[<epoch ns as a string>, <line>]`, in time order per stream; 204 when
 * accepted, 400 with the reason otherwise.
 */
export async function fakeLoki() {
  const pushes: { headers: http.IncomingHttpHeaders; body: any }[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', c => (text += c));
    req.on('end', () => {
      const reject = (why: string) => {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(why);
      };
      if (req.method !== 'POST' || req.url !== '/loki/api/v1/push') {
        res.writeHead(404).end('404 page not found');
        return;
      }
      if (!/^application\/json/.test(req.headers['content-type'] ?? '')) {
        reject('unsupported content type');
        return;
      }
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        reject('error parsing push request');
        return;
      }
      for (const s of body.streams ?? []) {
        for (const [name, value] of Object.entries(s.stream ?? {})) {
          if (
            !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ||
            typeof value !== 'string'
          ) {
            reject(`invalid label ${name}`);
            return;
          }
        }
        let last = -1n;
        for (const v of s.values ?? []) {
          if (
            !Array.isArray(v) ||
            !/^\d+$/.test(v[0]) ||
            typeof v[1] !== 'string'
          ) {
            reject('invalid entry');
            return;
          }
          if (BigInt(v[0]) < last) {
            reject('entry out of order');
            return;
          }
          last = BigInt(v[0]);
        }
      }
      pushes.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    pushes,
    close: () => new Promise(resolve => server.close(resolve)),
  };
}
