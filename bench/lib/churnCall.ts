// What the in-process benchmarks send and hear: one churn customer as a V2
// request, the churn model's V2 answer, and a logger that says nothing.
import { churnV2Body } from '../../plugins/ml-platform-backend/src/__testUtils__/churnReference';

const churn = require('./churnCustomer.json');

/** A 1-row churn V2 call's request and answer bodies. */
export function churnCall() {
  return {
    request: Buffer.from(JSON.stringify(churnV2Body([churn]))),
    answer: Buffer.from(
      JSON.stringify({
        model_name: 'churn',
        model_version: '3',
        outputs: [
          {
            name: 'churn_probability',
            datatype: 'FP64',
            shape: [1],
            data: [0.4123],
          },
          { name: 'churn', datatype: 'BOOL', shape: [1], data: [false] },
        ],
      }),
    ),
  };
}

export const silentLogger: any = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
