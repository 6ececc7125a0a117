import { COMMIT_SHA, SIZE_RANGES } from '@internal/plugin-ml-platform-common';
import { spec } from './openapi/generated';

// The generator is a plain Node script (scripts/openapi-generate.js).
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
const generator = require('../../scripts/openapi-generate');

describe('the OpenAPI document is the contract', () => {
  it('is a valid OpenAPI 3.0 document (the validator does not check it at start)', () => {
    const {
      OpenAPISchemaValidator,
    } = require('express-openapi-validator/dist/framework/openapi.schema.validator');
    const result = new OpenAPISchemaValidator({
      version: spec.openapi,
      validateApiSpec: true,
    }).validate(JSON.parse(JSON.stringify(spec)));
    expect(result.errors ?? []).toEqual([]);
  });

  it('has its generated router and client in sync (node scripts/openapi-generate.js)', () => {
    expect(generator.differences()).toEqual([]);
  });

  it('holds the one commit SHA rule the UI and the builds check too', () => {
    expect(spec.components.schemas.CommitSha.pattern).toBe(COMMIT_SHA.source);
  });

  it('bounds sizes as the UI forms do (SIZE_RANGES)', () => {
    const body =
      spec.paths['/models/{namespace}/{name}/deployments'].post.requestBody
        .content['application/json'].schema.properties;
    const sizes = { ...body, ...body.batch.properties } as Record<
      string,
      { minimum?: number; maximum?: number }
    >;
    for (const [field, { min, max }] of Object.entries(SIZE_RANGES)) {
      expect({
        field,
        min: sizes[field].minimum,
        max: sizes[field].maximum,
      }).toEqual({ field, min, max });
    }
  });
});
