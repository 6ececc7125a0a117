#!/usr/bin/env node
// Load generator for run.ts: posts order events with unique ids to the
// events backend's HTTP ingress with autocannon (8 connections by default)
// and prints autocannon's summary as JSON. Its CLI's `-I` id replacement
// sends nothing here, so each request's body is made in `setupRequest`.
//
//   node bench/events/postEvents.mjs <url> <id prefix> <seconds> [connections]
import autocannon from 'autocannon';

const [url, prefix, seconds, connections = '8'] = process.argv.slice(2);
const customer = {
  tenure_months: 18,
  monthly_charges: 70.25,
  total_charges: 1264.5,
  contract: 'one-year',
  support_calls: 1,
  has_internet: true,
};
let n = 0;
const result = await autocannon({
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      setupRequest: request => ({
        ...request,
        body: JSON.stringify({
          id: `${prefix}-${n++}`,
          type: 'churn-check',
          customer,
        }),
      }),
    },
  ],
});
process.stdout.write(JSON.stringify(result));
