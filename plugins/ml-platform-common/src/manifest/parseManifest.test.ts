import {
  ManifestError,
  parseManifest,
  validateManifest,
} from './parseManifest';

const valid = `
apiVersion: ml-platform/v1
kind: Model
spec:
  runtime: python
  entrypoint: model:Model
  requirements: requirements.txt
  tests: python3 -m unittest discover -s tests
  sample: sample.json
  schema:
    inputs:
      - { name: tenure_months, type: integer }
      - { name: contract, type: string }
    outputs:
      - { name: churn_probability, type: double }
  online: { replicas: 2, minReplicas: 0, maxReplicas: 4 }
  batch: { chunkSize: 500, parallelism: 2, maxRetries: 1, schedule: "0 3 * * *" }
  monitoring:
    alerts:
      - { name: slow, metric: latency_p99_ms, op: ">", threshold: 250, for: 5m, severity: warning }
`;

function problemsOf(text: string): string[] {
  try {
    parseManifest(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).problems;
  }
  throw new Error('expected the manifest to be rejected');
}

describe('parseManifest', () => {
  it('accepts a full manifest and keeps its values', () => {
    const m = parseManifest(valid);
    expect(m.spec.entrypoint).toBe('model:Model');
    expect(m.spec.schema?.inputs.map(i => i.name)).toEqual([
      'tenure_months',
      'contract',
    ]);
    expect(m.spec.online).toEqual({
      replicas: 2,
      minReplicas: 0,
      maxReplicas: 4,
    });
    expect(m.spec.batch?.schedule).toBe('0 3 * * *');
    expect(m.spec.monitoring?.alerts[0]).toMatchObject({
      op: '>',
      threshold: 250,
    });
  });

  it('applies defaults to batch and alert settings', () => {
    const m = validateManifest({
      apiVersion: 'ml-platform/v1',
      kind: 'Model',
      spec: {
        runtime: 'python',
        entrypoint: 'pkg.model:Model',
        batch: {},
        monitoring: {
          alerts: [
            { name: 'e', metric: 'error_rate', op: '>', threshold: 0.1 },
          ],
        },
      },
    });
    expect(m.spec.batch).toEqual({
      chunkSize: 1000,
      parallelism: 2,
      maxRetries: 3,
    });
    expect(m.spec.monitoring?.alerts[0]).toMatchObject({
      for: '5m',
      severity: 'warning',
    });
  });

  it('declares the model interface and the base interpreter', () => {
    const m = parseManifest(valid);
    expect(m.spec.interface).toBe('records');
    expect(m.spec.python).toBeUndefined();
    const frame = parseManifest(
      valid.replace(
        'entrypoint: model:Model',
        'entrypoint: model:Model\n  interface: dataframe\n  python: /usr/bin/python3',
      ),
    );
    expect(frame.spec.interface).toBe('dataframe');
    expect(frame.spec.python).toBe('/usr/bin/python3');
    expect(
      problemsOf(
        valid.replace(
          'entrypoint: model:Model',
          'entrypoint: model:Model\n  interface: arrow\n  python: "--version"',
        ),
      ),
    ).toEqual([
      'spec.interface: expected one of records, dataframe, ndarray',
      'spec.python: expected an absolute path or python3[.N], e.g. "/usr/bin/python3"',
    ]);
  });

  it('names the field and the problem', () => {
    expect(
      problemsOf(valid.replace('chunkSize: 500', 'chunkSize: -3')),
    ).toEqual(['spec.batch.chunkSize: expected a positive integer']);
    expect(
      problemsOf(valid.replace('entrypoint: model:Model', 'entrypoint: model')),
    ).toEqual(['spec.entrypoint: expected "module:Class", e.g. "model:Model"']);
    expect(problemsOf(valid.replace('type: integer', 'type: int'))).toEqual([
      'spec.schema.inputs[0].type: expected one of double, integer, string, boolean',
    ]);
    expect(problemsOf(valid.replace('op: ">"', 'op: "!="'))).toEqual([
      'spec.monitoring.alerts[0].op: expected one of > >= < <= ==',
    ]);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(
      'apiVersion: v2\nkind: Model\nspec:\n  runtime: java\n',
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'apiVersion: expected "ml-platform/v1"',
        'spec.runtime: expected "python"',
        expect.stringMatching(/^spec\.entrypoint: /),
      ]),
    );
  });

  it('checks replica bounds', () => {
    expect(
      problemsOf(
        valid.replace(
          'minReplicas: 0, maxReplicas: 4',
          'minReplicas: 3, maxReplicas: 1',
        ),
      ),
    ).toEqual([
      'spec.online.minReplicas: must not exceed maxReplicas (1)',
      'spec.online.replicas: must not exceed maxReplicas (1)',
    ]);
  });

  it('gives YAML syntax errors with their line', () => {
    expect(
      problemsOf('apiVersion: ml-platform/v1\nspec: [unclosed\n')[0],
    ).toMatch(/^YAML syntax error at line \d+: /);
    expect(problemsOf('')).toEqual(['the manifest is empty']);
  });
});
