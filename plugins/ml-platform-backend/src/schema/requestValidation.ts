import { InputError } from '@backstage/errors';
import { UnsupportedMediaTypeError } from '../http/requestGuards';
import { ErrorRequestHandler, Request, Router } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { spec } from './openapi/generated';

/**
 * Requests are validated against the OpenAPI document (src/schema/openapi.yaml)
 * by express-openapi-validator, the validator of `@backstage/backend-openapi-utils`.
 * Its answers name each bad field the way the API always has
 * (`body.gitPath: expected a relative path inside the repository`): bounds
 * are worded from the schema, other problems by the schema's
 * `x-error-message`.
 */

interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  oneOf?: Schema[];
  discriminator?: { propertyName: string };
  'x-error-message'?: string;
}

interface Parameter {
  $ref?: string;
  name: string;
  in: string;
  schema: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

type Document = {
  paths: Record<string, Record<string, unknown> & { parameters?: Parameter[] }>;
  components: {
    schemas: Record<string, Schema>;
    parameters: Record<string, Parameter>;
  };
};

const doc = spec as unknown as Document;

function deref<T extends { $ref?: string }>(value: T): T {
  if (!value?.$ref) return value;
  const target = value.$ref
    .replace('#/', '')
    .split('/')
    .reduce<any>((o, k) => o?.[k], doc);
  return deref(target as T);
}

/** The oneOf branch the data's discriminator selects, or undefined. */
function branchOf(schema: Schema, data: unknown): Schema | undefined {
  const tag = schema.discriminator?.propertyName;
  if (!tag || typeof data !== 'object' || data === null) return undefined;
  const value = (data as Record<string, unknown>)[tag];
  return schema.oneOf
    ?.map(deref)
    .find(branch =>
      deref(branch.properties?.[tag] ?? {}).enum?.includes(value),
    );
}

/** The schema at `segments` below `schema`, following the data through unions. */
function schemaAt(
  root: Schema | undefined,
  segments: string[],
  data: unknown,
): { schema?: Schema; parent?: Schema } {
  let schema = root && deref(root);
  let parent: Schema | undefined;
  let value = data;
  for (const segment of segments) {
    if (!schema) return {};
    if (schema.oneOf) schema = branchOf(schema, value) ?? schema;
    parent = schema;
    const next: Schema | undefined =
      schema.properties?.[segment] ?? schema.items;
    schema = next && deref(next);
    value =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[segment]
        : undefined;
  }
  return { schema, parent };
}

function operationOf(req: Request): {
  operation?: Operation;
  pathParameters: Parameter[];
} {
  const openapi = (
    req as Request & {
      openapi?: { openApiRoute?: string; expressRoute?: string };
    }
  ).openapi;
  const route = openapi?.openApiRoute;
  const item = route ? doc.paths[route] : undefined;
  return {
    operation: item?.[req.method.toLowerCase()] as Operation | undefined,
    pathParameters: item?.parameters ?? [],
  };
}

const list = (values: unknown[]) =>
  values.length > 1
    ? `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`
    : String(values[0]);

/** What is wrong, in the words the API uses, for one validator error. */
function describe(
  keyword: string,
  where: 'body' | 'query' | 'path',
  schema: Schema | undefined,
  fallback: string,
): string {
  const custom = schema?.['x-error-message'];
  if (!schema) return fallback;
  if (keyword === 'maxLength' && where !== 'path') {
    return `expected at most ${schema.maxLength} characters`;
  }
  if (custom) return custom;
  if (schema.enum) return `expected ${list(schema.enum)}`;
  if (schema.type === 'integer' || schema.type === 'number') {
    const { minimum: min, maximum: max } = schema;
    if (where === 'query') return `expected an integer from ${min} to ${max}`;
    if (keyword === 'maximum') return `expected at most ${max}`;
    return min === 0
      ? 'expected a non-negative integer'
      : 'expected a positive integer';
  }
  if (schema.type === 'boolean') return 'expected true or false';
  return fallback;
}

/** `body.batch.input.path`, `query.limit`, `path.id`, `body.items[0]`. */
function fieldName(where: string, segments: string[]) {
  return [where, ...segments].join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
}

/** Where the validator's error paths point, as the API names it. */
const WHERE: Record<string, 'body' | 'query' | 'path'> = {
  body: 'body',
  query: 'query',
  params: 'path',
};

interface ValidatorError {
  status?: number;
  errors?: { path: string; message: string; errorCode?: string }[];
  message?: string;
}

/** The validator's errors as one InputError naming each bad field. */
export function toInputError(error: ValidatorError, req: Request): Error {
  const { operation, pathParameters } = operationOf(req);
  const messages = new Map<string, string>();
  for (const item of error.errors ?? []) {
    const keyword = (item.errorCode ?? '').replace('.openapi.validation', '');
    const [, location, ...segments] = item.path.split('/');
    const where = WHERE[location] ?? 'body';
    let schema: Schema | undefined;
    let parent: Schema | undefined;
    if (where === 'body') {
      const root =
        operation?.requestBody?.content?.['application/json']?.schema;
      ({ schema, parent } = segments.length
        ? schemaAt(root, segments, req.body)
        : { schema: root && deref(root) });
    } else {
      const parameter = [...pathParameters, ...(operation?.parameters ?? [])]
        .map(deref)
        .find(
          p =>
            p.name === segments[0] &&
            p.in === (where === 'path' ? 'path' : 'query'),
        );
      schema = parameter && deref(parameter.schema);
    }
    const field = fieldName(where, segments);
    if (messages.has(field)) continue;
    if (keyword === 'additionalProperties' && parent && !schema) {
      messages.set(field, 'unknown field');
      continue;
    }
    messages.set(field, describe(keyword, where, schema, item.message));
  }
  if (messages.size === 0)
    return new InputError(error.message ?? 'Invalid request');
  return new InputError(
    [...messages].map(([field, message]) => `${field}: ${message}`).join('; '),
  );
}

/**
 * Express middleware that validates requests against the OpenAPI document
 * and answers 400 naming each bad field. Undocumented routes pass untouched.
 */
export function validateRequests(): Router {
  // The validator's own errors carry `status`, which Backstage's error
  // handler does not read: each becomes the error class of its status.
  const translate: ErrorRequestHandler = (error, req, _res, next) => {
    if (!(error && typeof error === 'object' && 'errors' in error)) {
      next(error);
    } else if (error.status === 415) {
      next(
        new UnsupportedMediaTypeError(
          `body: expected Content-Type ${Object.keys(
            operationOf(req).operation?.requestBody?.content ?? {},
          ).join(' or ')}, got ${
            req.headers['content-type']
              ? `"${String(req.headers['content-type']).slice(0, 100)}"`
              : 'none'
          }`,
        ),
      );
    } else {
      next(toInputError(error, req));
    }
  };
  const router = Router();
  router.use(
    OpenApiValidator.middleware({
      apiSpec: spec as any,
      validateRequests: {
        allErrors: true,
        coerceTypes: false,
        // Unknown query parameters are ignored, as they always were.
        allowUnknownQueryParameters: true,
        discriminator: true,
      },
      validateResponses: false,
      validateSecurity: false,
      ignoreUndocumented: true,
      useRequestUrl: true,
      // The document is checked once by a test, not at every start.
      validateApiSpec: false,
    }),
    translate,
  );
  return router;
}
