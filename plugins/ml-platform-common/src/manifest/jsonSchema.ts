import { z } from 'zod';
import { mlModelManifestSchema } from './manifestSchema';

/**
 * JSON Schema of `mlmodel.yaml` for editors (the YAML language server's
 * `# yaml-language-server: $schema=` comment, or VS Code settings).
 * The same document is committed as `schema/mlmodel.schema.json`.
 *
 * @public
 */
export function getManifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(mlModelManifestSchema, { io: 'input' }),
    $id: 'https://ml-platform.internal/schemas/mlmodel.schema.json',
    title: 'ML platform model manifest (mlmodel.yaml)',
  };
}
