/**
 * Types, the model manifest schema, catalog annotations and the API client
 * of the ML platform, shared by frontend, backend and tools.
 *
 * @packageDocumentation
 */
export * from './annotations';
export * from './types';
export * from './permissions';
export * from './manifest';
export * from './client';
export * from './limits';
export * from './alerts';
export * from './events';
