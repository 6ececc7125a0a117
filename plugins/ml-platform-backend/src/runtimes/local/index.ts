export { LocalRuntime } from './LocalRuntime';
export type { LocalRuntimeOptions } from './LocalRuntime';
