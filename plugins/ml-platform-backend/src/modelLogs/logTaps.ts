import { Runtime } from '@internal/plugin-ml-platform-node';
import { BuildStore } from '../database/builds/BuildStore';
import { LogIndex } from './LogIndex';

/**
 * The store the build runner writes through, with every build log line
 * (already masked) also handed to the log index.
 */
export function tapBuildLogs(store: BuildStore, index: LogIndex): BuildStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'appendBuildLog') {
        return async (
          buildId: string,
          lines: { step?: string; line: string }[],
        ) => {
          await target.appendBuildLog(buildId, lines);
          const time = Date.now();
          for (const l of lines) {
            index.add('build', buildId, l.line, { time, stream: l.step });
          }
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Every online deployment's log lines (replicas' output and runtime
 * events) into the log index, from the first status the runtime reports
 * for it on this instance.
 */
export function tapDeploymentLogs(runtime: Runtime, index: LogIndex) {
  const tapped = new Map<string, () => void>();
  const stopStatus = runtime.onStatusChange(status => {
    if (tapped.has(status.deploymentId)) return;
    tapped.set(
      status.deploymentId,
      runtime.onLog(status.deploymentId, line =>
        index.add('deployment', status.deploymentId, line.line, {
          time: Date.parse(line.time) || Date.now(),
          stream: line.replica ?? line.stream,
        }),
      ),
    );
  });
  return () => {
    stopStatus();
    for (const stop of tapped.values()) stop();
  };
}
