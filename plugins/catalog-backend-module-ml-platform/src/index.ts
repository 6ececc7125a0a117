/**
 * Catalog entities of the ML platform's own Git hosting.
 *
 * @packageDocumentation
 */
export { catalogModuleMlPlatform as default } from './module';
export { GitRootEntityProvider } from './GitRootEntityProvider';
