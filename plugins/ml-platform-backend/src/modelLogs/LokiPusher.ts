import { LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { NewLogLine } from '../database/modelLogs/LogStore';

/** `mlPlatform.logs.loki`. */
export interface LokiSettings {
  /** Base URL; lines go to `<url>/loki/api/v1/push`. */
  url: string;
  /** Sent as `X-Scope-OrgID` (multi-tenant Loki). */
  tenant?: string;
  /** Sent as a bearer token. */
  token?: string;
}

/**
 * Ships log lines to Loki's push API (JSON): one stream per model, version
 * and source (labels `model`, `namespace`, `version`, `source`, `level`),
 * values `[<epoch ns>, <line>]` in time order.
 */
export class LokiPusher {
  private readonly endpoint: string;

  constructor(
    private readonly settings: LokiSettings,
    private readonly logger: LoggerService,
  ) {
    this.endpoint = `${settings.url.replace(/\/+$/, '')}/loki/api/v1/push`;
  }

  async push(lines: NewLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const streams = new Map<
      string,
      { stream: Record<string, string>; values: [string, string][] }
    >();
    for (const l of lines) {
      const { namespace, name } = parseEntityRef(l.modelRef);
      const labels = {
        model: name,
        namespace,
        version: String(l.version),
        source: l.source,
        level: l.level,
      };
      const key = JSON.stringify(labels);
      let stream = streams.get(key);
      if (!stream) {
        stream = { stream: labels, values: [] };
        streams.set(key, stream);
      }
      stream.values.push([`${BigInt(l.time) * 1_000_000n}`, l.line]);
    }
    for (const stream of streams.values()) {
      stream.values.sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1));
    }
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
    };
    if (this.settings.tenant) headers['X-Scope-OrgID'] = this.settings.tenant;
    if (this.settings.token) {
      headers.Authorization = `Bearer ${this.settings.token}`;
    }
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ streams: [...streams.values()] }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) {
      const text = (await response.text()).slice(0, 300);
      this.logger.warn('log lines not accepted by Loki', {
        status: response.status,
        lines: lines.length,
        answer: text,
      });
    }
  }
}
