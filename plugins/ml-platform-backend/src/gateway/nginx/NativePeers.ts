import dns from 'node:dns';
import net from 'node:net';

export interface NativePeersOptions {
  /** How long an answer of the resolver (or its failure) is used. */
  ttlMs?: number;
  clock?: () => number;
  /** A host name's IPv4 address; the system's resolver by default. */
  lookup?: (host: string) => Promise<string>;
}

const systemLookup = async (host: string) =>
  (await dns.promises.lookup(host, { family: 4 })).address;

interface Name {
  address?: string;
  until: number;
  lookup?: Promise<void>;
}

/**
 * Replica URLs as the Lua balancer takes them: `ipv4:port`, or undefined
 * for one nginx cannot forward to itself (its calls go through the
 * backend). A replica named by its host, as the Kubernetes runtime names a
 * Service, is resolved here with the system's resolver (nginx's own would
 * need a nameserver in its configuration), in the background and every
 * `ttlMs` at most: the routes are put every 200 ms, and a slow resolver
 * must not hold them up. Until its first answer, a name's calls go through
 * the backend; after that, the last address is used while the next is
 * asked, and when the resolver fails.
 */
export class NativePeers {
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly lookup: (host: string) => Promise<string>;
  private readonly names = new Map<string, Name>();

  constructor(options: NativePeersOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10_000;
    this.clock = options.clock ?? Date.now;
    this.lookup = options.lookup ?? systemLookup;
  }

  /** Names remembered. */
  get size() {
    return this.names.size;
  }

  /** Each URL's peer, as known now; names are looked up when not known or old. */
  peersOf(urls: string[]): Array<string | undefined> {
    const now = this.clock();
    const asked = new Set<string>();
    const peers = urls.map(url => {
      const target = forwardable(url);
      if (!target) return undefined;
      if (net.isIPv4(target.host)) return `${target.host}:${target.port}`;
      asked.add(target.host);
      const address = this.addressOf(target.host, now);
      return address ? `${address}:${target.port}` : undefined;
    });
    for (const [host, name] of this.names) {
      if (!asked.has(host) && !name.lookup) this.names.delete(host);
    }
    return peers;
  }

  /** Once the lookups under way have answered (for tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.names.values()].map(n => n.lookup));
  }

  private addressOf(host: string, now: number): string | undefined {
    let name = this.names.get(host);
    if (!name) {
      name = { until: 0 };
      this.names.set(host, name);
    }
    if (name.until <= now && !name.lookup) {
      const asked = name;
      asked.lookup = this.lookup(host)
        .then(
          address => {
            if (net.isIPv4(address)) asked.address = address;
          },
          // Not found or no answer: the last address stays, if any.
          () => undefined,
        )
        .then(() => {
          asked.until = this.clock() + this.ttlMs;
          asked.lookup = undefined;
        });
    }
    return name.address;
  }
}

/** Host and port of a plain `http://host[:port]/` URL, nothing more in it. */
function forwardable(url: string): { host: string; port: string } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (
    u.protocol !== 'http:' ||
    u.pathname !== '/' ||
    u.search ||
    u.username ||
    u.password ||
    // IPv6 literals: the routes' `host:port` lists have no room for them.
    u.hostname.startsWith('[')
  ) {
    return undefined;
  }
  return { host: u.hostname, port: u.port || '80' };
}
