export { mlPlatformPlugin as default } from './plugin';
export {
  createMlPlatformRootHttpRouter,
  type MlPlatformRootHttpRouterOptions,
} from './dataPlane/mlPlatformRootHttpRouter';
