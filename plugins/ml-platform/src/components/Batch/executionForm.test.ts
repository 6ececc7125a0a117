import {
  ExecutionForm,
  formatOfFilename,
  validateExecutionForm,
} from './executionForm';

const form = (overrides: Partial<ExecutionForm>): ExecutionForm => ({
  target: 'deployment:dep-1',
  inputKind: 'path',
  path: '',
  url: '',
  outputKind: 'file',
  outputFormat: 'csv',
  connection: '',
  table: '',
  chunkSize: '',
  parallelism: '',
  ...overrides,
});

describe('validateExecutionForm', () => {
  it('builds the body for a server path with sizes', () => {
    expect(
      validateExecutionForm(
        form({
          path: ' /data/in.parquet ',
          chunkSize: '500',
          parallelism: '2',
        }),
      ).body,
    ).toEqual({
      deploymentId: 'dep-1',
      input: { type: 'path', path: '/data/in.parquet' },
      output: { type: 'file', format: 'csv' },
      chunkSize: 500,
      parallelism: 2,
    });
  });

  it('names every bad field', () => {
    const { errors, body } = validateExecutionForm(
      form({
        target: 'build:',
        inputKind: 'upload',
        file: new File(['x'], 'rows.xlsx'),
        chunkSize: '0',
        parallelism: '65',
      }),
    );
    expect(body).toBeUndefined();
    expect(errors).toEqual({
      target: 'choose a batch deployment or a build',
      file: 'expected a .csv, .jsonl or .parquet file',
      chunkSize: 'must be at least 1',
      parallelism: 'must be at most 64',
    });
  });

  it('reads formats from file names', () => {
    expect(formatOfFilename('a.CSV')).toBe('csv');
    expect(formatOfFilename('a.ndjson')).toBe('jsonl');
    expect(formatOfFilename('a.parquet')).toBe('parquet');
    expect(formatOfFilename('a.txt')).toBeUndefined();
  });
});
