import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { MlModelManifest, mlModelManifestSchema } from './manifestSchema';

/** A manifest that failed to parse or validate. @public */
export class ManifestError extends Error {
  readonly name = 'ManifestError';
  /** One line per problem, each naming the field, e.g. `spec.entrypoint: ...`. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.join('; '));
    this.problems = problems;
  }
}

/** Turns zod issues into `path.to.field: problem` lines. @public */
export function formatIssues(issues: z.core.$ZodIssue[], root = ''): string[] {
  return issues.map(issue => {
    const path = issue.path
      .map(p => (typeof p === 'number' ? `[${p}]` : String(p)))
      .join('.')
      .replace(/\.\[/g, '[');
    const field = [root, path].filter(Boolean).join('.');
    return field ? `${field}: ${issue.message}` : issue.message;
  });
}

/** Validates an already-parsed manifest object. @public */
export function validateManifest(value: unknown): MlModelManifest {
  const result = mlModelManifestSchema.safeParse(value);
  if (!result.success) {
    throw new ManifestError(formatIssues(result.error.issues));
  }
  return result.data;
}

/**
 * Parses `mlmodel.yaml` text. YAML syntax errors carry their line; schema
 * errors name the field.
 *
 * @public
 */
export function parseManifest(text: string): MlModelManifest {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ManifestError(
      doc.errors.map(e => {
        const line = e.linePos?.[0]?.line;
        return `YAML syntax error${line ? ` at line ${line}` : ''}: ${
          e.message.split('\n')[0]
        }`;
      }),
    );
  }
  const value = doc.toJS();
  if (value === null || value === undefined) {
    throw new ManifestError(['the manifest is empty']);
  }
  return validateManifest(value);
}
