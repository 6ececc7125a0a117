import type { IncomingMessage } from 'node:http';
import {
  assertJsonBody,
  assertNoDotSegments,
  isJsonMediaType,
  pathParameterProblem,
} from './requestGuards';

const req = (headers: Record<string, string>) =>
  ({ headers } as unknown as IncomingMessage);

describe('request guards', () => {
  it('refuses . and .. path segments, plain, encoded or hidden in one segment', () => {
    for (const p of [
      '/models/../..',
      '/models/%2e%2e/x',
      '/models/%2E%2E/x',
      '/models/default/..%2F..%2Fcatalog',
      '/models/./x',
      '/x/..%5Cy',
    ]) {
      expect(() => assertNoDotSegments(p)).toThrow(
        'path: "." and ".." segments are not allowed',
      );
    }
    expect(() => assertNoDotSegments('/models/%E0%A4%A/x')).toThrow(
      'path: malformed percent-encoding',
    );
    expect(() =>
      assertNoDotSegments('/models/default/churn.v2/builds?x=../..'),
    ).not.toThrow();
  });

  it('checks path parameters as catalog names and UUIDs', () => {
    expect(pathParameterProblem('namespace', 'default')).toBeUndefined();
    expect(pathParameterProblem('name', 'churn_v2.1')).toBeUndefined();
    expect(
      pathParameterProblem('id', '0d1a26e6-7d8f-4eaf-9f6b-a5c57fc3c7d9'),
    ).toBeUndefined();
    expect(pathParameterProblem('namespace', 'Default')).toMatch(
      /catalog namespace/,
    );
    expect(pathParameterProblem('name', '..')).toMatch(/entity name/);
    expect(pathParameterProblem('name', 'a'.repeat(64))).toMatch(/entity name/);
    expect(pathParameterProblem('id', 'v1')).toBe('expected a UUID');
  });

  it('takes JSON media types only, for requests that carry a body', () => {
    expect(isJsonMediaType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonMediaType('application/vnd.api+json')).toBe(true);
    expect(isJsonMediaType('text/plain')).toBe(false);
    expect(isJsonMediaType(undefined)).toBe(false);
    expect(() =>
      assertJsonBody(
        req({ 'content-length': '2', 'content-type': 'text/plain' }),
      ),
    ).toThrow('body: expected Content-Type application/json, got "text/plain"');
    expect(() =>
      assertJsonBody(req({ 'transfer-encoding': 'chunked' })),
    ).toThrow(/got none/);
    expect(() =>
      assertJsonBody(
        req({ 'content-length': '0', 'content-type': 'text/plain' }),
      ),
    ).not.toThrow();
    expect(() => assertJsonBody(req({}))).not.toThrow();
  });
});
