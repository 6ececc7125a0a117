/**
 * The JSON shapes of the ML platform HTTP API, shared by the backend, the
 * frontend, the CLI and the scaffolder actions: the models generated from
 * the OpenAPI document (plugins/ml-platform-backend/src/schema/openapi.yaml).
 */
export * from './schema/openapi/generated/models';
