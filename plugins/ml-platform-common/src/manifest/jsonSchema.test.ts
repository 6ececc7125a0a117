import fs from 'node:fs';
import path from 'node:path';
import { getManifestJsonSchema } from './jsonSchema';

const committed = path.resolve(__dirname, '../../schema/mlmodel.schema.json');

describe('getManifestJsonSchema', () => {
  it('describes the manifest fields', () => {
    const schema = getManifestJsonSchema() as any;
    expect(schema.required).toEqual(['apiVersion', 'kind', 'spec']);
    const spec = schema.properties.spec;
    expect(spec.required).toEqual(['runtime', 'entrypoint']);
    expect(spec.properties.batch.properties.chunkSize.type).toBe('integer');
  });

  // Editors point at the committed file; it must not drift from the zod schema.
  it('matches the committed schema/mlmodel.schema.json', () => {
    const generated = `${JSON.stringify(getManifestJsonSchema(), null, 2)}\n`;
    if (process.env.UPDATE_SCHEMA) {
      fs.writeFileSync(committed, generated);
    }
    expect(fs.readFileSync(committed, 'utf8')).toBe(generated);
  });
});
