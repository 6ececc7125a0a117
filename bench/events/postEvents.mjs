#!/usr/bin/env node
// Load generator for run.ts: posts order events with unique ids to the
// events backend's HTTP ingress with autocannon (8 connections by default)
// and prints autocannon's summary as JSON. Its CLI's `-I` id replacement
// sends nothing here, so each request's body is made in `setupRequest`.
//
//   node bench/events/postEvents.mjs <url> <id prefix> <seconds> [connections]
import autocannon from 'autocannon';
import { churnCustomer } from '../lib/datasets.mjs';

const [url, prefix, seconds, connections = '8'] = process.argv.slice(2);
const customer = churnCustomer;
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
