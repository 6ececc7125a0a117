import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { spec } from '../../schema/openapi/generated';
import { waitFor } from '../../__testUtils__/modelRepository';
import {
  SecurityBackend,
  modelEntity,
  startSecurityBackend,
} from '../../__testUtils__/securityBackend';

/**
 * Every POST and PATCH route of the OpenAPI document, sent what a careless
 * or hostile client sends: wrong types, huge, empty and unicode values,
 * extra fields, bodies that are not JSON, the wrong media type, odd path
 * parameters. The platform may refuse any of it, but never with a 5xx and
 * never by holding the connection.
 */

jest.setTimeout(180_000);

type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
  items?: Schema;
};

const document = spec as any;

function resolve(schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolve(document.components.schemas[name]);
}

const HUGE = 'x'.repeat(200_000);
const UNICODE = '\u0000\ud800💥\u202e\uffff'.repeat(50);

/** Values of the wrong type, or the right type at its extremes. */
function oddValues(schema: Schema | undefined): unknown[] {
  const wrongTypes = [123, -1, true, null, [], {}, 'x', ''];
  const s = resolve(schema);
  switch (s?.type) {
    case 'string':
      return [...wrongTypes, HUGE, UNICODE, '../../etc/passwd', '-x', ' '];
    case 'integer':
    case 'number':
      return [...wrongTypes, 1.5, 1e308, -1e308, 2 ** 64, '1', NaN];
    case 'object':
      return [...wrongTypes, { [HUGE.slice(0, 1000)]: 1 }, [{}]];
    default:
      return [...wrongTypes, HUGE, UNICODE, { a: { b: { c: [] } } }];
  }
}

/** A body with each property replaced, in turn, by each odd value. */
function propertyVariants(schema: Schema | undefined, depth = 0): unknown[] {
  const s = resolve(schema);
  const variants: unknown[] = [];
  const properties = s?.properties ?? resolve(s?.oneOf?.[0])?.properties;
  if (!properties) return variants;
  for (const [name, property] of Object.entries(properties)) {
    for (const value of oddValues(property)) variants.push({ [name]: value });
    if (depth === 0) {
      for (const inner of propertyVariants(property, depth + 1)) {
        variants.push({ [name]: inner });
      }
    }
  }
  variants.push(
    Object.fromEntries(Object.keys(properties).map(k => [k, UNICODE])),
    {
      ...Object.fromEntries(Object.keys(properties).map(k => [k, ''])),
      extra: 1,
    },
  );
  return variants;
}

interface Case {
  label: string;
  method: 'post' | 'patch';
  path: string;
  contentType?: string;
  body?: string | Buffer;
}

describe('fuzz of every POST and PATCH route of the OpenAPI document', () => {
  let b: SecurityBackend;

  beforeAll(async () => {
    b = await startSecurityBackend({
      entities: [modelEntity('fuzz'), modelEntity('fuzzreg')],
      config: {
        builds: { pollInterval: 0, heartbeatInterval: 200 },
        gateway: { timeout: 3000 },
      },
    });
    const api = (p: string) => `/api/ml-platform${p}`;
    await request(b.server)
      .post(api('/models/default/fuzz/register'))
      .set(b.guest)
      .send({ gitUrl: b.repo.url, gitPath: 'churn', defaultBranch: 'main' });
    // A live deployment, so invocation bodies meet the gateway's checks.
    const queued = await request(b.server)
      .post(api('/models/default/fuzz/builds'))
      .set(b.guest)
      .send({});
    const build = await waitFor(
      async () => {
        const r = await request(b.server)
          .get(api(`/builds/${queued.body.id}`))
          .set(b.guest);
        return r.body.status === 'succeeded' ? r.body : undefined;
      },
      { what: 'the fuzz build', timeoutMs: 60_000 },
    );
    const deployment = await request(b.server)
      .post(api('/models/default/fuzz/deployments'))
      .set(b.guest)
      .send({ buildId: build.id, type: 'online', replicas: 1 });
    await waitFor(
      async () =>
        (
          await request(b.server)
            .get(api(`/deployments/${deployment.body.id}`))
            .set(b.guest)
        ).body.status === 'ready',
      { what: 'the fuzz deployment' },
    );
  });
  afterAll(() => b?.stop());

  function cases(): Case[] {
    const all: Case[] = [];
    for (const [template, item] of Object.entries<any>(document.paths)) {
      for (const method of ['post', 'patch'] as const) {
        const operation = item[method];
        if (!operation) continue;
        const fill = (params: Record<string, string>) =>
          `/api/ml-platform${template.replace(
            /\{(\w+)\}/g,
            (_: string, p: string) => params[p],
          )}`;
        const valid = {
          namespace: 'default',
          // Register changes its model; the rest use the deployed one.
          name: template.endsWith('/register') ? 'fuzzreg' : 'fuzz',
          id: randomUUID(),
        };
        const path = `${fill(valid)}${
          template.endsWith('/uploads') ? '?filename=in.csv' : ''
        }`;
        const content = operation.requestBody?.content ?? {
          'application/json': {},
        };
        const type = Object.keys(content)[0];
        const schema = content[type]?.schema;
        const add = (label: string, c: Omit<Case, 'label' | 'method'>) =>
          all.push({
            label: `${method.toUpperCase()} ${template} ${label}`,
            method,
            ...c,
          });

        // Whole bodies, each with the declared media type.
        const bodies: [string, string | Buffer][] = [
          ['empty', ''],
          ['null', 'null'],
          ['array', '[]'],
          ['string', '"x"'],
          ['number', '1e999'],
          ['truncated', '{"a": '],
          ['not JSON', '{a: 1}'],
          ['NaN', '{"a": NaN}'],
          ['deep', `${'['.repeat(20_000)}${']'.repeat(20_000)}`],
          ['deep object', `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`],
          ['over 1 MiB', JSON.stringify({ a: 'x'.repeat(1_200_000) })],
          ['proto', '{"__proto__": {"admin": true}, "constructor": {}}'],
          ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80])],
          ['utf-16', Buffer.from('{"a":"b"}', 'utf16le')],
        ];
        for (const [label, body] of bodies) {
          add(label, { path, contentType: type, body });
        }
        for (const body of propertyVariants(schema)) {
          add(`body ${JSON.stringify(body).slice(0, 80)}`, {
            path,
            contentType: type,
            body: JSON.stringify(body),
          });
        }
        // Other media types, and none.
        for (const contentType of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/json; charset=utf-16',
          'application/xml',
          undefined,
        ]) {
          add(`as ${contentType}`, { path, contentType, body: '{"a":1}' });
        }
        // Odd path parameters.
        for (const odd of [
          '..',
          '%2e%2e',
          '%2F',
          'a'.repeat(300),
          '%F0%9F%92%A5',
          '%00',
          'x%20y',
          '-rf',
        ]) {
          add(`path ${odd.slice(0, 20)}`, {
            path: fill({ namespace: odd, name: odd, id: odd }),
            contentType: 'application/json',
            body: '{}',
          });
        }
      }
    }
    return all;
  }

  it('answers every request with less than 500, and in time', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThan(500);
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < all.length) {
        const c = all[next++];
        let req = request(b.server)
          [c.method](c.path)
          .set(b.guest)
          .timeout({ response: 8_000, deadline: 15_000 });
        if (c.contentType) req = req.set('Content-Type', c.contentType);
        try {
          const res = await (c.body === undefined ? req : req.send(c.body));
          if (res.status >= 500) {
            failures.push(
              `${c.label}: ${res.status} ${JSON.stringify(res.body).slice(
                0,
                300,
              )}`,
            );
          }
        } catch (error) {
          const e = error as { timeout?: number; code?: string };
          // The server may close a connection after answering an unread body.
          if (e.code === 'ECONNRESET' || e.code === 'EPIPE') continue;
          failures.push(`${c.label}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failures).toEqual([]);
  });
});
