// tests/service/tiered-redis.test.ts: TieredCache over a real Redis (issue 4, lines 3 and 5), in
// this process, on one redis-server and on a 3-master Redis Cluster: an L2 hit fills L1 with the
// time that REMAINS (fake clock), a second instance gets the first one's value from L2 without
// calling its loader, tag invalidation reaches L2 (an instance with an empty L1 loads again),
// every key lives under the namespace, and emit(event, data) fills the event map's templates
// and invalidates keys, tags, prefixes and patterns in both L1s and in L2.

import { Cluster, Redis } from 'ioredis';

import { createTieredCache } from '../../js/src/index.js';
import type { CreateTieredOptions, TieredCache } from '../../js/src/index.js';
import { startRedis, startRedisCluster } from './support/redis.js';
import type { RedisClusterHandle, RedisServer } from './support/redis.js';

const LONG = 60_000;

let single: RedisServer | undefined;
let cluster: RedisClusterHandle | undefined;
const inspectors: Array<Redis | Cluster> = [];
const instances: TieredCache[] = [];

beforeAll(async () => {
  [single, cluster] = await Promise.all([startRedis('tiered-single'), startRedisCluster(3)]);
}, LONG);

afterEach(async () => {
  await Promise.all(instances.splice(0).map((instance) => instance.close()));
});

afterAll(async () => {
  for (const inspector of inspectors) inspector.disconnect();
  await Promise.all([single?.teardown(), cluster?.teardown()]);
}, LONG);

type Kind = 'single' | 'cluster';

class FakeClock {
  ms = Date.now();
  readonly now = (): number => this.ms;
}

let namespaceCounter = 0;
const freshNamespace = (kind: Kind): string => `t${++namespaceCounter}-${kind}:`;

type InstanceOptions = Omit<CreateTieredOptions, 'createL1' | 'redis'> & { bus?: boolean };

async function instance(kind: Kind, namespace: string, options: InstanceOptions = {}): Promise<TieredCache> {
  const { bus, ...rest } = options;
  const where =
    kind === 'single'
      ? { url: { host: '127.0.0.1', port: single!.port } }
      : { cluster: { nodes: [...cluster!.startupNodes] } };
  const created = await createTieredCache({
    ...rest,
    redis: { ...where, namespace, ...(bus !== undefined ? { bus } : {}) },
  });
  instances.push(created);
  // The adapter connects lazily in the background; the first L2 read must not be a "not ready" miss.
  await (created.l2 as unknown as { ready(): Promise<void> }).ready();
  return created;
}

async function inspector(kind: Kind): Promise<Redis | Cluster> {
  const connection =
    kind === 'single' ? new Redis({ host: '127.0.0.1', port: single!.port }) : new Cluster([...cluster!.startupNodes]);
  inspectors.push(connection);
  await connection.ping();
  return connection;
}

async function allKeys(connection: Redis | Cluster): Promise<string[]> {
  const masters = connection instanceof Cluster ? connection.nodes('master') : [connection];
  const keys: string[] = [];
  for (const node of masters) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys.sort();
}

/** A loader that returns `value` and counts its calls. */
function counting<V>(value: (key: string) => V): { loader: (key: string) => Promise<V>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    loader: async (key) => {
      calls.push(key);
      return value(key);
    },
  };
}

/** Waits (real time) until `done()` holds; fails after `timeoutMs`. For bus deliveries. */
async function until(what: string, done: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe.each<Kind>(['single', 'cluster'])('%s', (kind) => {
  test('an L2 hit fills L1 with the remaining time; the second instance calls no loader', async () => {
    const clock = new FakeClock();
    const namespace = freshNamespace(kind);
    const a = await instance(kind, namespace, { clock: clock.now, l1: { maxEntries: 100, clock: clock.now } });
    const b = await instance(kind, namespace, { clock: clock.now, l1: { maxEntries: 100, clock: clock.now } });
    const loadA = counting(() => ({ symbol: 'AAPL', bid: 189.5, asks: [189.6, 189.7] }));
    const loadB = counting(() => ({ symbol: 'AAPL', bid: -1, asks: [] }));

    expect(await a.getOrSet('quote:AAPL', loadA.loader, { ttl: '60s', grace: '30s' })).toEqual({
      symbol: 'AAPL',
      bid: 189.5,
      asks: [189.6, 189.7],
    });
    expect(a.l1.peek('quote:AAPL')?.ttl).toBe(60_000);

    clock.ms += 20_000;
    const got = await b.getOrSetStored('quote:AAPL', loadB.loader, { ttl: '60s', grace: '30s' });
    expect(got.source).toBe('l2');
    expect(got.value).toEqual({ symbol: 'AAPL', bid: 189.5, asks: [189.6, 189.7] });
    expect(loadB.calls).toEqual([]);
    expect(loadA.calls).toEqual(['quote:AAPL']);
    // The same version travels with the value (an ETag is the same on every instance).
    expect(got.version).toBe(a.l1.peek('quote:AAPL')?.value.version);
    // L1 got what remains of the 60 s (40 s) and of the grace after it, not a fresh 60 s + 30 s.
    const filled = b.l1.peek('quote:AAPL');
    expect(filled?.state).toBe('fresh');
    expect(filled?.ttl).toBe(40_000);
    expect(filled?.staleTtl).toBe(70_000);
    expect(b.stats().l2.hits).toBe(1);

    // B's next call is an L1 hit; 40 s later its copy turns stale exactly when A's does.
    expect((await b.getOrSetStored('quote:AAPL', loadB.loader)).source).toBe('l1');
    clock.ms += 40_000;
    expect(b.l1.peek('quote:AAPL')?.state).toBe('stale');
    expect(a.l1.peek('quote:AAPL')?.state).toBe('stale');
    clock.ms += 30_000;
    expect(b.l1.peek('quote:AAPL')).toBeUndefined();
    expect(loadB.calls).toEqual([]);
  });

  test('tag invalidation through one instance reaches L2 and the other L1', async () => {
    const namespace = freshNamespace(kind);
    const a = await instance(kind, namespace);
    const b = await instance(kind, namespace);
    const load = counting((key) => `value of ${key}`);
    for (const [key, tag] of [
      ['pos:1', 'acct:1'],
      ['pos:2', 'acct:1'],
      ['pos:3', 'acct:2'],
    ] as const) {
      await a.getOrSet(key, load.loader, { ttl: '5m', tags: [tag] });
      expect((await b.getOrSetStored(key, load.loader, { ttl: '5m' })).source).toBe('l2');
    }
    expect(load.calls).toEqual(['pos:1', 'pos:2', 'pos:3']);
    // B's L1 copies carry the tags that came with the values from L2.
    expect(b.l1.has('pos:1')).toBe(true);

    expect(await a.invalidateTags(['acct:1'])).toBe(2);
    await until('B drops pos:1 and pos:2', () => !b.l1.has('pos:1') && !b.l1.has('pos:2'));
    expect(b.l1.has('pos:3')).toBe(true);

    // An instance with an empty L1 sees what L2 holds: acct:1's values are gone, acct:2's stay.
    const c = await instance(kind, namespace);
    const loadC = counting((key) => `reloaded ${key}`);
    expect(await c.getOrSet('pos:1', loadC.loader, { ttl: '5m' })).toBe('reloaded pos:1');
    expect(await c.getOrSet('pos:2', loadC.loader, { ttl: '5m' })).toBe('reloaded pos:2');
    expect(await c.getOrSet('pos:3', loadC.loader, { ttl: '5m' })).toBe('value of pos:3');
    expect(loadC.calls).toEqual(['pos:1', 'pos:2']);
    // B calls its loader again too (its L1 and L2 both lost the key); A's value of pos:3 stays.
    expect((await b.getOrSetStored('pos:1', loadC.loader, { ttl: '5m' })).source).toBe('l2');
    expect((await b.getOrSetStored('pos:3', loadC.loader, { ttl: '5m' })).source).toBe('l1');
  });

  test('set() reaches L2 and makes the other instance drop its L1 copy; get() reads L1 then L2 and never loads', async () => {
    const namespace = freshNamespace(kind);
    const a = await instance(kind, namespace);
    const b = await instance(kind, namespace);
    await a.set('quote:MSFT', { px: 1 }, { ttl: '1m' });
    expect(await b.get('quote:MSFT')).toEqual({ px: 1 }); // from L2, now in B's L1
    expect(b.stats().l2.hits).toBe(1);
    expect(b.l1.has('quote:MSFT')).toBe(true);
    await a.set('quote:MSFT', { px: 2 }, { ttl: '1m' });
    await until('B drops its old copy', () => !b.l1.has('quote:MSFT'));
    expect(await b.get('quote:MSFT')).toEqual({ px: 2 });
    expect(await b.get('quote:none')).toBeUndefined();
    expect(b.stats().loader.calls).toBe(0);
    expect(b.stats().l1).toMatchObject({ hits: 0, misses: 3 });
  });

  test('soft timeout: with a stale value from L2 in hand, a slow loader is not waited for', async () => {
    const namespace = freshNamespace(kind);
    const clock = new FakeClock();
    const a = await instance(kind, namespace, { clock: clock.now });
    await a.set('quote:NVDA', 'old', { ttl: '1s', grace: '1h' });
    clock.ms += 2_000; // stale in L2, within grace
    const b = await instance(kind, namespace, { clock: clock.now });
    let finish!: (value: string) => void;
    const slow = new Promise<string>((resolve) => (finish = resolve));
    const started = performance.now();
    const answered = await b.getOrSetStored('quote:NVDA', () => slow, { softTimeout: 50, ttl: '1m' });
    expect(answered).toMatchObject({ value: 'old', source: 'l1-stale' }); // a stale answer says so
    expect(performance.now() - started).toBeLessThan(1_000);
    finish('new'); // the load goes on in the background and lands in both tiers
    await b.idle();
    expect(b.l1.getEntry('quote:NVDA')).toMatchObject({ value: { value: 'new' }, state: 'fresh' });
    expect(await a.get('quote:NVDA')).toBe('old'); // A's L1 copy, still within its grace
    a.l1.delete('quote:NVDA');
    expect(await a.get('quote:NVDA')).toBe('new'); // from L2
  });

  test('every key lives under the namespace; another namespace shares nothing', async () => {
    const connection = await inspector(kind);
    const masters = connection instanceof Cluster ? connection.nodes('master') : [connection];
    await Promise.all(masters.map((node) => node.flushall()));
    const a = await instance(kind, 'svcA:');
    const other = await instance(kind, 'svcB:');
    const load = counting((key) => `A ${key}`);
    await a.getOrSet('user:1', load.loader, { ttl: '5m', tags: ['team:x'] });
    await a.getOrSet('user:2', load.loader, { ttl: '5m' });

    const keys = await allKeys(connection);
    expect(keys).toContain('svcA:v:user:1');
    expect(keys).toContain('svcA:v:user:2');
    for (const key of keys) expect(key.startsWith('svcA:')).toBe(true);

    // The other namespace does not see A's values, and its clear() leaves them alone.
    const loadOther = counting((key) => `B ${key}`);
    expect(await other.getOrSet('user:1', loadOther.loader, { ttl: '5m' })).toBe('B user:1');
    expect(loadOther.calls).toEqual(['user:1']);
    expect(await allKeys(connection)).toContain('svcB:v:user:1');
    await other.clear();
    const after = await allKeys(connection);
    expect(after).toContain('svcA:v:user:1');
    expect(after).toContain('svcA:v:user:2');
    expect(after.filter((key) => key.startsWith('svcB:'))).toEqual([]);
  });

  test('emit(event, data) invalidates keys, tags, prefixes and patterns in both L1s and in L2', async () => {
    const namespace = freshNamespace(kind);
    const events = {
      'signal.created': {
        patterns: ['feed:*'],
        keys: ['provider:{providerId}:stats', 'leaderboard:top'],
        tags: ['provider:{providerId}'],
      },
      'provider.renamed': { patterns: ['provider:{providerId}:*'] },
      'provider.deleted': { prefixes: ['provider:{providerId}:'] },
    };
    const a = await instance(kind, namespace, { events });
    const b = await instance(kind, namespace, { events });
    const entries: Array<[string, string[]]> = [
      ['feed:1', []],
      ['feed:2', []],
      ['provider:7:stats', []],
      ['provider:8:stats', []],
      ['provider:8:name', []],
      ['leaderboard:top', []],
      ['profile:7', ['provider:7']],
      ['profile:8', ['provider:8']],
      ['feedback', []],
    ];
    const load = counting((key) => `v ${key}`);
    for (const [key, tags] of entries) {
      await a.getOrSet(key, load.loader, { ttl: '5m', tags });
      expect((await b.getOrSetStored(key, load.loader, { ttl: '5m' })).source).toBe('l2');
    }
    const all = entries.map(([key]) => key);
    const inL1 = (cache: TieredCache): string[] => all.filter((key) => cache.l1.has(key));
    const connection = await inspector(kind);
    /** Which keys L2 still holds (their value keys in Redis). */
    const inL2 = async (): Promise<string[]> => {
      const present = await Promise.all(all.map((key) => connection.exists(`${namespace}v:${key}`)));
      return all.filter((_, i) => present[i] === 1);
    };
    expect(await inL2()).toEqual(all);

    // providerId 7: the feed, provider 7's stats and tagged profile, the leaderboard.
    expect(await a.emit('signal.created', { providerId: 7 })).toEqual({ removed: 5 });
    const survivors = ['provider:8:stats', 'provider:8:name', 'profile:8', 'feedback'];
    expect(inL1(a)).toEqual(survivors);
    await until('B applies the event', () => inL1(b).length === survivors.length);
    expect(inL1(b)).toEqual(survivors);
    expect(await inL2()).toEqual(survivors);

    // Data is escaped inside a pattern: "8*" must not widen "provider:{providerId}:*".
    expect(await a.emit('provider.renamed', { providerId: '8*' })).toEqual({ removed: 0 });
    expect(await a.emit('provider.renamed', { providerId: 8 })).toEqual({ removed: 2 });
    await until('B applies the pattern', () => !b.l1.has('provider:8:stats') && !b.l1.has('provider:8:name'));
    expect(inL1(b)).toEqual(['profile:8', 'feedback']);
    expect(await inL2()).toEqual(['profile:8', 'feedback']);

    // A prefix template; and a template missing its data is refused before anything is removed.
    await a.getOrSet('provider:9:stats', load.loader, { ttl: '5m' });
    await expect(a.emit('provider.deleted', {})).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(a.l1.has('provider:9:stats')).toBe(true);
    expect(await a.emit('provider.deleted', { providerId: 9 })).toEqual({ removed: 1 });
    const c = await instance(kind, namespace);
    const loadC = counting((key) => `c ${key}`);
    await c.getOrSet('provider:9:stats', loadC.loader, { ttl: '5m' });
    expect(loadC.calls).toEqual(['provider:9:stats']);
  });
});
