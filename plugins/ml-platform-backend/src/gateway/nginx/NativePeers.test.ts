import { NativePeers } from './NativePeers';

describe('NativePeers', () => {
  it('takes IPv4 replicas as they are', () => {
    expect(
      new NativePeers().peersOf([
        'http://127.0.0.1:8080',
        'http://10.1.2.3:9000/',
        'http://10.1.2.4',
      ]),
    ).toEqual(['127.0.0.1:8080', '10.1.2.3:9000', '10.1.2.4:80']);
  });

  it('resolves a replica named by its host (a Kubernetes Service) to its IPv4 address', async () => {
    const peers = new NativePeers();
    const url = 'http://localhost:8080';
    // Through the backend's gateway until the system's resolver answered.
    expect(peers.peersOf([url])).toEqual([undefined]);
    await peers.settled();
    expect(peers.peersOf([url])).toEqual(['127.0.0.1:8080']);
  });

  it('leaves out what nginx cannot forward to itself', async () => {
    const peers = new NativePeers();
    const urls = [
      'https://10.0.0.1:8443',
      'http://10.0.0.1:8080/prefix/',
      'http://10.0.0.1:8080/?x=1',
      'http://[::1]:8080',
      'http://user:secret@10.0.0.1:8080',
      'not a url',
      'http://no-such-host.invalid:8080',
    ];
    peers.peersOf(urls);
    await peers.settled();
    expect(peers.peersOf(urls)).toEqual(Array(urls.length).fill(undefined));
  });

  it('looks a name up once a while, not at every tick, and keeps its address meanwhile', async () => {
    let now = 0;
    const lookups: string[] = [];
    let answer: () => Promise<string> = async () => '10.0.0.7';
    const peers = new NativePeers({
      ttlMs: 5_000,
      clock: () => now,
      lookup: host => {
        lookups.push(host);
        return answer();
      },
    });
    const url = 'http://churn.models.svc.cluster.local';
    peers.peersOf([url, url]);
    await peers.settled();
    expect(peers.peersOf([url, url])).toEqual(['10.0.0.7:80', '10.0.0.7:80']);
    now = 4_000;
    answer = async () => '10.0.0.8';
    expect(peers.peersOf([url])).toEqual(['10.0.0.7:80']);
    expect(lookups).toHaveLength(1);

    // Old: asked again, the last address used until the answer.
    now = 5_000;
    expect(peers.peersOf([url])).toEqual(['10.0.0.7:80']);
    await peers.settled();
    expect(peers.peersOf([url])).toEqual(['10.0.0.8:80']);
    expect(lookups).toHaveLength(2);

    // A resolver that fails keeps the last address.
    now = 20_000;
    answer = async () => {
      throw new Error('EAI_AGAIN');
    };
    peers.peersOf([url]);
    await peers.settled();
    expect(peers.peersOf([url])).toEqual(['10.0.0.8:80']);
    expect(lookups).toHaveLength(3);
  });

  it('remembers a failed lookup as long, and forgets names no longer asked for', async () => {
    let now = 0;
    let calls = 0;
    const peers = new NativePeers({
      ttlMs: 1_000,
      clock: () => now,
      lookup: async () => {
        calls++;
        throw new Error('ENOTFOUND');
      },
    });
    peers.peersOf(['http://gone:8080']);
    await peers.settled();
    expect(peers.peersOf(['http://gone:8080'])).toEqual([undefined]);
    expect(calls).toBe(1);
    now = 2_000;
    peers.peersOf([]);
    expect(peers.size).toBe(0);
  });
});
