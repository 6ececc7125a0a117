// The least a gateway in Node can be, as a peer for bench/gateway: Node's
// HTTP server and the gateway's own replica client (kept-alive sockets, one
// write per call), and nothing else: no authentication, routing, limits,
// metrics, events or logs. What the real gateway spends above it is the
// platform's; what it spends above nginx is Node's.
//
//   node --require ./node_modules/@backstage/cli-node/config/nodeTransform.cjs \
//     bench/lib/nodeFloor.ts <port> <replica base URL>
//
// Prints `listening` once it accepts connections.
import http from 'node:http';
import { ReplicaClient } from '../../plugins/ml-platform-backend/src/gateway/ReplicaClient';

const [port, replica] = process.argv.slice(2);
const client = new ReplicaClient(30_000);

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    client.send(replica, req.url ?? '/', body).then(
      answer => {
        res.writeHead(answer.status, {
          'Content-Type': 'application/json',
          'Content-Length': answer.body.length,
        });
        res.end(answer.body);
      },
      error => {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(String(error));
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
// Stopped between loads: nothing under way. The process ends once the
// server and the replica connections are closed.
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void client.close();
});
