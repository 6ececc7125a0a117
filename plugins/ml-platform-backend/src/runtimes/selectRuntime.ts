import { Runtime } from '@internal/plugin-ml-platform-node';

/**
 * Picks the runtime named by `mlPlatform.runtime`: the built-in `local` one
 * (created only when chosen) or one a module added. An unknown name stops the
 * backend with the names it knows.
 */
export function selectRuntime(
  type: string,
  added: Runtime[],
  createLocal: () => Runtime,
): Runtime {
  const chosen = added.find(r => r.type === type);
  if (chosen) return chosen;
  if (type === 'local') return createLocal();
  throw new Error(
    `mlPlatform.runtime is "${type}", but no runtime of that type is installed; available: ${[
      'local',
      ...added.map(r => r.type),
    ].join(', ')}`,
  );
}
