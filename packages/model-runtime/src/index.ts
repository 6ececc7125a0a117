/**
 * The Python model runtime (`python/mlp_runtime`: model server and batch
 * worker) and the TypeScript helpers that start it.
 *
 * @packageDocumentation
 */
export * from './modelServer';
export * from './runtimeSchema';
