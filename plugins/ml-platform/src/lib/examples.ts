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
export function recordsExample(fields: ManifestField[] | undefined): {
  dataframe_records: Record<string, unknown>[];
} {
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

/** A value between single quotes for a POSIX shell. */
const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A curl command line posting `body` with a service token. */
export function curlExample(url: string, body: object): string {
  return [
    `curl -X POST ${shellQuote(url)} \\`,
    `  -H "Authorization: Bearer $ML_PLATFORM_SERVICE_TOKEN" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ].join('\n');
}

/** The same prediction with the `mlp` command line. */
export function cliExample(
  model: string,
  fields: ManifestField[] | undefined,
): string {
  return `mlp predict ${model} -d ${shellQuote(
    JSON.stringify(recordsExample(fields).dataframe_records),
  )}`;
}

/** A JSON value written as Python source. */
function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The same prediction with the Python SDK (`ml_platform`): a list of dicts
 * in, predictions out (a DataFrame in gives a DataFrame out).
 */
export function sdkExample(
  portalUrl: string,
  model: string,
  fields: ManifestField[] | undefined,
): string {
  return [
    'from ml_platform import Client',
    '',
    `client = Client(${JSON.stringify(
      portalUrl,
    )})  # token: MLP_TOKEN, or \`mlp login\``,
    `client.predict(${JSON.stringify(model)}, ${pythonLiteral(
      recordsExample(fields).dataframe_records,
    )})`,
  ].join('\n');
}
