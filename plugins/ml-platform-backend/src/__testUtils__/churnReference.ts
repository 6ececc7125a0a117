import fs from 'node:fs';
import path from 'node:path';
import { examplesDir } from './modelRepository';

/** Rows for the churn example, deterministic per index. */
export function churnRow(i: number) {
  const contracts = ['month-to-month', 'one-year', 'two-year'];
  return {
    tenure_months: i % 72,
    monthly_charges: 20 + (i % 100) * 0.85,
    total_charges: (i % 72) * (20 + (i % 100) * 0.85),
    contract: contracts[i % 3],
    support_calls: i % 7,
    has_internet: i % 2 === 0,
  };
}

/**
 * The churn model's probability computed here from its committed
 * coefficients, independently of the Python model, to check every output row.
 */
export function churnReference() {
  const c = JSON.parse(
    fs.readFileSync(
      path.join(examplesDir, 'churn', 'coefficients.json'),
      'utf8',
    ),
  );
  const w = c.weights;
  return (row: ReturnType<typeof churnRow>) => {
    // Same order of additions as model.py, so the floats agree.
    let z =
      c.intercept +
      w.tenure_months * row.tenure_months +
      w.monthly_charges * row.monthly_charges +
      w.total_charges * row.total_charges +
      w.support_calls * row.support_calls;
    z += c.contract[row.contract];
    if (row.has_internet) z += w.has_internet;
    return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  };
}

/** A CSV file of `n` churn rows. */
export async function writeChurnCsv(file: string, n: number, from = 0) {
  const out = fs.createWriteStream(file);
  out.write(
    'tenure_months,monthly_charges,total_charges,contract,support_calls,has_internet\n',
  );
  for (let i = from; i < from + n; i++) {
    const r = churnRow(i);
    const line = `${r.tenure_months},${r.monthly_charges},${r.total_charges},${r.contract},${r.support_calls},${r.has_internet}\n`;
    if (!out.write(line))
      await new Promise(resolve => out.once('drain', resolve));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((e?: Error) => (e ? reject(e) : resolve())),
  );
}

/** The churn example's `expected.json`: inputs and the known probabilities. */
export function churnExpected(): {
  input: Record<string, unknown>;
  churn_probability: number;
}[] {
  return JSON.parse(
    fs.readFileSync(path.join(examplesDir, 'churn', 'expected.json'), 'utf8'),
  );
}

/** Open Inference Protocol datatypes of the churn model's inputs. */
export const CHURN_V2_DATATYPES: Record<string, string> = {
  tenure_months: 'INT64',
  monthly_charges: 'FP64',
  total_charges: 'FP64',
  contract: 'BYTES',
  support_calls: 'INT64',
  has_internet: 'BOOL',
};

/** A V2 infer request body for churn rows. */
export function churnV2Body(rows: Record<string, unknown>[]) {
  return {
    inputs: Object.entries(CHURN_V2_DATATYPES).map(([name, datatype]) => ({
      name,
      datatype,
      shape: [rows.length],
      data: rows.map(r => r[name]),
    })),
  };
}

/** The catalog entity of an ML model owned by the data science group. */
export function mlModelComponent(name: string) {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default' },
    spec: { type: 'ml-model', owner: 'group:default/data-science' },
  };
}
