import {
  ManifestField,
  ModelInterface,
} from '@internal/plugin-ml-platform-common';

const exampleValue = (field: ManifestField): unknown => {
  switch (field.type) {
    case 'integer':
      return 0;
    case 'double':
      return 0.0;
    case 'boolean':
      return false;
    default:
      return '';
  }
};

const v2Datatype: Record<ManifestField['type'], string> = {
  integer: 'INT64',
  double: 'FP64',
  boolean: 'BOOL',
  string: 'BYTES',
};

/** A one-row MLflow records body with every input at its type's zero. */
export function recordsExample(fields: ManifestField[] | undefined): object {
  if (!fields?.length) {
    return { dataframe_records: [{}] };
  }
  return {
    dataframe_records: [
      Object.fromEntries(fields.map(f => [f.name, exampleValue(f)])),
    ],
  };
}

/**
 * Rows as one `[N, F]` Open Inference Protocol tensor, every input in the
 * schema's order (booleans as 0/1): the form `ndarray` models take, as
 * MLServer's and Triton's scikit-learn runtimes do.
 */
export function v2MatrixBody(
  fields: ManifestField[],
  rows: Record<string, unknown>[],
): object {
  const number = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v);
  return {
    parameters: { content_type: 'np' },
    inputs: [
      {
        name: 'input-0',
        shape: [rows.length, fields.length],
        datatype: 'FP64',
        data: rows.map(row => fields.map(f => number(row[f.name]))),
      },
    ],
  };
}

/**
 * The inputs of a model that takes its V2 inputs as one `[N, F]` tensor, in
 * column order: `ndarray` models whose inputs are all numbers or booleans
 * (one datatype fits them). Undefined for every other model.
 */
export function matrixInputs(
  fields: ManifestField[] | undefined,
  modelInterface: ModelInterface | undefined,
): ManifestField[] | undefined {
  return modelInterface === 'ndarray' &&
    fields?.length &&
    fields.every(f => f.type !== 'string')
    ? fields
    : undefined;
}

/** Whether a request body is an Open Inference Protocol one (V2 tensors). */
export function isV2Body(body: unknown): boolean {
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  return (
    Array.isArray(inputs) &&
    inputs.length > 0 &&
    inputs.every(
      t =>
        typeof t === 'object' && t !== null && 'datatype' in t && 'shape' in t,
    )
  );
}

/**
 * The same row as an Open Inference Protocol request: one tensor per input,
 * or for `ndarray` models a single `[1, F]` tensor of every input.
 */
export function v2Example(
  fields: ManifestField[] | undefined,
  modelInterface: ModelInterface = 'records',
): object {
  const columns = matrixInputs(fields, modelInterface);
  if (columns) {
    return v2MatrixBody(columns, [
      Object.fromEntries(columns.map(f => [f.name, exampleValue(f)])),
    ]);
  }
  return {
    inputs: (fields ?? []).map(f => ({
      name: f.name,
      shape: [1],
      datatype: v2Datatype[f.type],
      data: [exampleValue(f)],
    })),
  };
}

/** A curl command line posting `body` with a service token. */
export function curlExample(url: string, body: object): string {
  return [
    `curl -X POST '${url}' \\`,
    `  -H "Authorization: Bearer $ML_PLATFORM_SERVICE_TOKEN" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${JSON.stringify(body).replace(/'/g, `'\\''`)}'`,
  ].join('\n');
}
