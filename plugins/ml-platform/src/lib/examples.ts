import { ManifestField } from '@internal/plugin-ml-platform-common';

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

/** The same row as an Open Inference Protocol request. */
export function v2Example(fields: ManifestField[] | undefined): object {
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
