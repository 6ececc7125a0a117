// Deterministic churn rows, the same as the tests' (plugins/ml-platform-backend/src/__testUtils__/churnReference.ts).
import fs from 'node:fs';
import { createRequire } from 'node:module';

/** The one customer the latency and throughput benches send, every call. */
export const churnCustomer = createRequire(import.meta.url)(
  './churnCustomer.json',
);

/** `churnCustomer` as a V2 request body (one row, a tensor per field). */
export const churnCustomerV2 = JSON.stringify({
  inputs: Object.entries({
    tenure_months: 'INT64',
    monthly_charges: 'FP64',
    total_charges: 'FP64',
    contract: 'BYTES',
    support_calls: 'INT64',
    has_internet: 'BOOL',
  }).map(([name, datatype]) => ({
    name,
    datatype,
    shape: [1],
    data: [churnCustomer[name]],
  })),
});

export function churnRow(i) {
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

export async function writeChurnCsv(file, n) {
  if (fs.existsSync(file)) return;
  const out = fs.createWriteStream(`${file}.partial`);
  out.write(
    'tenure_months,monthly_charges,total_charges,contract,support_calls,has_internet\n',
  );
  for (let i = 0; i < n; i++) {
    const r = churnRow(i);
    if (
      !out.write(
        `${r.tenure_months},${r.monthly_charges},${r.total_charges},${r.contract},${r.support_calls},${r.has_internet}\n`,
      )
    ) {
      await new Promise(resolve => out.once('drain', resolve));
    }
  }
  await new Promise(resolve => out.end(resolve));
  fs.renameSync(`${file}.partial`, file);
}
