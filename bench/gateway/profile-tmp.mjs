import autocannon from 'autocannon';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { base, createModelRepo, registerAndBuild, startPortal, waitUntil } from '../lib/portal.mjs';
import { findProcess } from '../lib/cpu.mjs';
const here = path.dirname(fileURLToPath(import.meta.url));
const portal = await startPortal({ overlay: path.join(here, 'app-config.bench.yaml'), env: { MLP_BENCH_MONITORING: process.env.MON ?? 'true' } });
const { api, headers } = portal;
try {
  const build = await registerAndBuild(api, 'churn', createModelRepo(portal.tmp).url);
  const d = await api('POST', '/models/default/churn/deployments', { buildId: build.id, type: 'online', replicas: 1, minReplicas: 1 });
  await waitUntil(async () => (await api('GET', `/deployments/${d.id}`)).status === 'ready', 60000, 'ready');
  const body = JSON.stringify({ inputs: [['tenure_months','INT64',18],['monthly_charges','FP64',70.25],['total_charges','FP64',1264.5],['contract','BYTES','one-year'],['support_calls','INT64',1],['has_internet','BOOL',true]].map(([name, datatype, v]) => ({ name, datatype, shape: [1], data: [v] })) });
  const run = s => new Promise((res, rej) => autocannon({ url: `${base}/api/ml-platform/v2/models/churn/infer`, method: 'POST', body, headers: { 'Content-Type': 'application/json', Authorization: headers.Authorization }, connections: 8, duration: s }, (e, x) => e ? rej(e) : res(x)));
  const pid = findProcess(portal.backendPid, /src\/index/);
  await run(4);
  process.kill(pid, 'SIGUSR2');
  const r = await run(Number(process.env.DUR ?? 10));
  process.kill(pid, 'SIGUSR2');
  console.log('rps', r.requests.average, 'non2xx', r.non2xx);
  await new Promise(r => setTimeout(r, 3000));
} finally { await portal.stop(); portal.cleanup(); }
