import { resolvePackagePath } from '@backstage/backend-plugin-api';
import fs from 'node:fs';
import { parse } from 'yaml';

/** The plugin's OpenAPI document, served at `/api/ml-platform/openapi.json`. */
export interface OpenApiDocument {
  document: {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
    [key: string]: unknown;
  };
}

export function loadOpenApiDocument(): OpenApiDocument {
  const file = resolvePackagePath(
    '@internal/plugin-ml-platform-backend',
    'src/schema/openapi.yaml',
  );
  return { document: parse(fs.readFileSync(file, 'utf8')) };
}
