// Loaded into the portal's backend with `--require` (NODE_OPTIONS) by a
// benchmark run with `--gc`: each SIGUSR2 opens or closes a window of V8's
// GC profiler, and closing it writes `<MLP_BENCH_GC_DIR>/gc-<n>.json`: the
// collections by type with their main-thread time, and the bytes that
// survived young-generation collections (still in new space after them) and
// were promoted (old space's growth across them), per HTTP request served.
// Only the backend process (its entry point is `src/index`) listens.
if (/src\/index/.test(process.argv.join(' ')) && process.env.MLP_BENCH_GC_DIR) {
  const fs = require('node:fs');
  const http = require('node:http');
  const path = require('node:path');
  const v8 = require('node:v8');

  let requests = 0;
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function countRequests(type, ...args) {
    if (type === 'request') requests++;
    return emit.call(this, type, ...args);
  };

  const used = (stats, space) =>
    stats.heapSpaceStatistics.find(s => s.spaceName === space)?.spaceUsedSize ??
    0;
  let window;
  let written = 0;
  process.on('SIGUSR2', () => {
    if (!window) {
      const profiler = new v8.GCProfiler();
      profiler.start();
      window = { profiler, requests };
      return;
    }
    const { statistics } = window.profiler.stop();
    const calls = requests - window.requests;
    window = undefined;
    const byType = {};
    let survived = 0;
    let promoted = 0;
    for (const s of statistics) {
      const t = (byType[s.gcType] ??= { count: 0, ms: 0 });
      t.count++;
      t.ms += s.cost / 1000;
      if (s.gcType === 'Scavenge') {
        survived += used(s.afterGC, 'new_space');
        promoted +=
          used(s.afterGC, 'old_space') - used(s.beforeGC, 'old_space');
      }
    }
    const perCall = x => (calls > 0 ? Math.round(x / calls) : undefined);
    const gcMs = Object.values(byType).reduce((sum, t) => sum + t.ms, 0);
    fs.writeFileSync(
      path.join(process.env.MLP_BENCH_GC_DIR, `gc-${written++}.json`),
      JSON.stringify({
        requests: calls,
        byType,
        gcUsPerCall:
          calls > 0 ? Number(((gcMs * 1000) / calls).toFixed(2)) : undefined,
        survivedBytesPerCall: perCall(survived),
        promotedBytesPerCall: perCall(promoted),
      }),
    );
  });
}
