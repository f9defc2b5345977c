// tests/service/redis-adapter.test.ts: the Redis L2 adapter (js/src/l2/redis.ts) against a real
// redis-server and a real 3-master Redis Cluster, both started here on loopback ports. Every
// behaviour is checked on both (describe.each): the cluster runs keys through three nodes, so
// what holds there holds across slots and nodes.

import { Cluster, Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

import { createCache } from '../../js/src/index.js';
import { TickcacheError } from '../../js/src/errors.js';
import { remainingTimes } from '../../js/src/l2/adapter.js';
import type { L2Envelope } from '../../js/src/l2/adapter.js';
import { L2Error } from '../../js/src/l2/errors.js';
import { RedisL2Adapter, decodeEnvelope, encodeEnvelope } from '../../js/src/l2/redis.js';
import type { RedisL2Options } from '../../js/src/l2/redis.js';
import { SLOT_COUNT, keySlot, slotHashTag } from '../../js/src/l2/slots.js';
import { RedisServer, rawCommand, startRedis, startRedisCluster, waitForClusterOk } from './support/redis.js';
import type { RedisClusterHandle } from './support/redis.js';

const LONG = 60_000;

let single: RedisServer | undefined;
let cluster: RedisClusterHandle | undefined;
const adapters: RedisL2Adapter[] = [];
const inspectors: Array<Redis | Cluster> = [];

beforeAll(async () => {
  single = await startRedis('l2-single');
  cluster = await startRedisCluster(3);
}, LONG);

afterAll(async () => {
  await Promise.all(adapters.map((adapter) => adapter.close()));
  for (const inspector of inspectors) inspector.disconnect();
  await single?.teardown();
  await cluster?.teardown();
}, LONG);

type Kind = 'single' | 'cluster';

/** Where the adapter connects, for one kind of deployment. */
function target(kind: Kind): Pick<RedisL2Options, 'redis' | 'cluster'> {
  if (kind === 'single') return { redis: { host: '127.0.0.1', port: (single as RedisServer).port } };
  return { cluster: { nodes: [...(cluster as RedisClusterHandle).startupNodes] } };
}

type AdapterOptions = Omit<RedisL2Options, 'redis' | 'cluster' | 'client'>;

async function makeAdapter(kind: Kind, options: AdapterOptions = {}): Promise<RedisL2Adapter> {
  const adapter = new RedisL2Adapter({ ...target(kind), ...options });
  adapters.push(adapter);
  await adapter.ready();
  return adapter;
}

/** A plain ioredis connection for looking at what the adapter wrote. */
async function makeInspector(kind: Kind): Promise<Redis | Cluster> {
  const inspector =
    kind === 'single'
      ? new Redis({ host: '127.0.0.1', port: (single as RedisServer).port })
      : new Cluster([...(cluster as RedisClusterHandle).startupNodes]);
  inspectors.push(inspector);
  await inspector.ping();
  return inspector;
}

function mastersOf(connection: Redis | Cluster): Redis[] {
  return connection instanceof Cluster ? connection.nodes('master') : [connection];
}

/** The keys of the whole deployment (SCAN on each master). */
async function allKeys(connection: Redis | Cluster): Promise<string[]> {
  const keys: string[] = [];
  for (const node of mastersOf(connection)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys.sort();
}

/** The master ("host:port") that serves a raw Redis key. */
function nodeOf(connection: Redis | Cluster, rawKey: string): string {
  if (!(connection instanceof Cluster)) return 'single';
  return connection.slots[keySlot(rawKey)]?.[0] ?? 'unknown';
}

function envelope(text: string, overrides: Partial<L2Envelope> = {}): L2Envelope {
  const now = Date.now();
  return {
    value: Buffer.from(text),
    freshUntil: now + 60_000,
    staleUntil: now + 90_000,
    tags: [],
    version: 1,
    ...overrides,
  };
}

function textOf(found: L2Envelope | undefined): string | undefined {
  return found === undefined ? undefined : Buffer.from(found.value).toString();
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeDefined();
  expect((error as { code?: unknown }).code).toBe(code);
  return error;
}

/**
 * Makes the server at `port` stop answering for `seconds` (DEBUG SLEEP); resolves once it hangs,
 * with `awake`: the promise of the server's answer to DEBUG SLEEP (wrapped: an async function
 * returning a bare promise would adopt it and wait for the wake-up).
 */
async function hangServer(port: number, seconds: number): Promise<{ awake: Promise<string> }> {
  const asleep = rawCommand(port, `DEBUG SLEEP ${seconds}`, seconds * 1000 + 5000);
  // The server is hung once a PING from another connection goes unanswered.
  for (;;) {
    const answered = await rawCommand(port, 'PING', 50).then(
      () => true,
      () => false,
    );
    if (!answered) return { awake: asleep };
  }
}

/** Counts socket writes (= requests put on the wire; a pipeline is one) per connection. */
function countWrites(connections: Redis[]): { counts: number[]; restore: () => void } {
  const counts = connections.map(() => 0);
  const restores = connections.map((connection, i) => {
    const stream = (connection as unknown as { stream: net.Socket }).stream;
    const original = stream.write;
    stream.write = function countedWrite(this: net.Socket, ...args: Parameters<net.Socket['write']>) {
      counts[i] = (counts[i] as number) + 1;
      return original.apply(this, args);
    } as net.Socket['write'];
    return () => {
      stream.write = original;
    };
  });
  return { counts, restore: () => restores.forEach((restore) => restore()) };
}

/** Keys whose value keys (namespace "tc:") fall on every master of the cluster. */
function keysOnEveryNode(connection: Redis | Cluster, stem: string, count: number): string[] {
  const keys = Array.from({ length: count }, (_, i) => `${stem}${i}`);
  const nodes = new Set(keys.map((key) => nodeOf(connection, `tc:v:${key}`)));
  expect(nodes.size).toBe(mastersOf(connection).length);
  return keys;
}

describe.each<Kind>(['single', 'cluster'])('Redis L2 adapter (%s)', (kind) => {
  it('stores the value with its times, tags and version, and returns them on get', async () => {
    const adapter = await makeAdapter(kind);
    const stored = envelope('quote AAPL 187.2', { tags: ['sym:AAPL', 'quotes'], version: 9_007_199_254_740_991 });
    await adapter.set('rt:quote:AAPL', stored);
    const found = await adapter.get('rt:quote:AAPL');
    expect(textOf(found)).toBe('quote AAPL 187.2');
    expect(found?.freshUntil).toBe(stored.freshUntil);
    expect(found?.staleUntil).toBe(stored.staleUntil);
    expect(found?.tags).toEqual(['sym:AAPL', 'quotes']);
    expect(found?.version).toBe(9_007_199_254_740_991);

    const forever = envelope('never expires', { freshUntil: Infinity, staleUntil: Infinity, tags: ['forever'] });
    await adapter.set('rt:forever', forever);
    const foundForever = await adapter.get('rt:forever');
    expect(foundForever?.freshUntil).toBe(Infinity);
    expect(foundForever?.staleUntil).toBe(Infinity);
    expect(await adapter.get('rt:missing')).toBeUndefined();

    // Binary values and non-ASCII keys and tags travel unchanged.
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await adapter.set('rt:bytes:é✓', { ...envelope(''), value: bytes, tags: ['tag:é✓'] });
    const foundBytes = await adapter.get('rt:bytes:é✓');
    expect(Buffer.from(foundBytes?.value ?? []).equals(Buffer.from(bytes))).toBe(true);
    expect(foundBytes?.tags).toEqual(['tag:é✓']);
  });

  it('lets Redis expire the value at staleUntil (PTTL), and keeps each tag set as long as its longest member', async () => {
    const adapter = await makeAdapter(kind);
    const inspector = await makeInspector(kind);
    const now = Date.now();
    await adapter.set('exp:a', envelope('a', { freshUntil: now + 10_000, staleUntil: now + 20_000, tags: ['exp'] }));
    await adapter.set('exp:b', envelope('b', { freshUntil: now + 10_000, staleUntil: now + 50_000, tags: ['exp'] }));
    await adapter.set('exp:c', envelope('c', { freshUntil: now + 1000, staleUntil: now + 5_000, tags: ['exp'] }));
    await adapter.set('exp:never', envelope('n', { freshUntil: Infinity, staleUntil: Infinity }));
    await adapter.set('exp:untagged', envelope('u', { freshUntil: now + 10_000, staleUntil: now + 30_000 }));
    const pttlA = await inspector.pttl('tc:v:exp:a');
    const pttlUntagged = await inspector.pttl('tc:v:exp:untagged');
    const pttlB = await inspector.pttl('tc:v:exp:b');
    const elapsed = Date.now() - now;
    expect(pttlA).toBeLessThanOrEqual(20_000 + 1);
    expect(pttlA).toBeGreaterThan(20_000 - elapsed - 50);
    expect(pttlB).toBeGreaterThan(50_000 - elapsed - 50);
    expect(pttlUntagged).toBeLessThanOrEqual(30_000 + 1);
    expect(pttlUntagged).toBeGreaterThan(30_000 - elapsed - 50);
    expect(await inspector.pttl('tc:v:exp:never')).toBe(-1);

    // Every set holding "exp" members lives until the longest member (b) is gone, not the last written (c).
    const tagSets = (await allKeys(inspector)).filter((key) => key.startsWith('tc:t:') && key.endsWith('exp'));
    expect(tagSets.length).toBeGreaterThan(0);
    const setTtls = await Promise.all(tagSets.map((key) => inspector.pttl(key)));
    const members = await Promise.all(tagSets.map((key) => inspector.smembers(key)));
    tagSets.forEach((_, i) => {
      const holdsB = (members[i] as string[]).includes('tc:v:exp:b');
      if (holdsB) expect(setTtls[i]).toBeGreaterThan(50_000 - elapsed - 50);
      expect(setTtls[i]).toBeGreaterThan(0);
    });

    // An envelope already past staleUntil is not stored (and replaces what was there).
    await adapter.set('exp:dead', envelope('dead', { freshUntil: now - 2000, staleUntil: now - 1000 }));
    expect(await inspector.exists('tc:v:exp:dead')).toBe(0);
  });

  it('gives L1 the remaining time of an L2 hit (absolute times, a fake clock)', async () => {
    let clockMs = Date.now();
    const clock = (): number => clockMs;
    const adapter = await makeAdapter(kind, { clock });
    await adapter.set('fill:AAPL', envelope('187.2', { freshUntil: clockMs + 5000, staleUntil: clockMs + 8000 }));
    clockMs += 2000; // the value sat in L2 for 2 s before this instance asked for it
    const found = await adapter.get('fill:AAPL');
    expect(found).toBeDefined();
    const remaining = remainingTimes(found as L2Envelope, clockMs);
    expect(remaining).toEqual({ ttl: 3000, grace: 3000 });

    // The remaining times fill a real L1 (same clock): it turns stale and leaves exactly then.
    const l1 = await createCache<string>({ maxEntries: 100, clock });
    try {
      l1.set('fill:AAPL', textOf(found) as string, remaining);
      expect(l1.getEntry('fill:AAPL')).toMatchObject({ value: '187.2', state: 'fresh', ttl: 3000, staleTtl: 6000 });
      clockMs += 3001;
      expect(l1.getEntry('fill:AAPL')?.state).toBe('stale');
      clockMs += 3000;
      expect(l1.getEntry('fill:AAPL')).toBeUndefined();
    } finally {
      l1.close();
    }
    // Past staleUntil on this instance's clock the L2 answer is a miss, even before Redis drops it.
    expect(await adapter.get('fill:AAPL')).toBeUndefined();
    expect(remainingTimes(found as L2Envelope, clockMs)).toBeUndefined();
  });

  it('reads many keys in one round trip per node, in order, with misses and duplicates', async () => {
    const adapter = await makeAdapter(kind);
    const inspector = await makeInspector(kind);
    const keys =
      kind === 'cluster'
        ? keysOnEveryNode(inspector, 'many:', 30)
        : Array.from({ length: 30 }, (_, i) => `many:${i}`);
    for (const key of keys.slice(0, 20)) await adapter.set(key, envelope(`value of ${key}`));
    const asked = [...keys, keys[0] as string, 'many:absent'];
    await adapter.getMany(asked); // connects every node, so the count below sees only getMany's own requests

    const connections = mastersOf(adapter.client);
    const nodeCount = kind === 'cluster' ? 3 : 1;
    expect(connections).toHaveLength(nodeCount);
    const statsBefore = await Promise.all(mastersOf(inspector).map((node) => node.info('commandstats')));
    const writes = countWrites(connections);
    let found: Array<L2Envelope | undefined>;
    try {
      found = await adapter.getMany(asked);
    } finally {
      writes.restore();
    }
    const statsAfter = await Promise.all(mastersOf(inspector).map((node) => node.info('commandstats')));
    const stored = new Set(keys.slice(0, 20));
    expect(found.map(textOf)).toEqual(asked.map((key) => (stored.has(key) ? `value of ${key}` : undefined)));
    // One write per node, i.e. one round trip each (a GET per key would be 32 writes).
    expect(writes.counts).toEqual(new Array(nodeCount).fill(1));
    // The server saw MGETs only: exactly one on a single node; one per slot on a cluster.
    const calls = (info: string | undefined, command: string): number =>
      Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info ?? '')?.[1] ?? 0);
    const delta = (command: string): number =>
      statsAfter.reduce((sum, info, i) => sum + calls(info, command) - calls(statsBefore[i], command), 0);
    const mgets = delta('mget');
    const gets = delta('get');
    const slots = new Set(asked.map((key) => keySlot(`tc:v:${key}`))).size;
    expect(gets).toBe(0);
    expect(mgets).toBe(kind === 'cluster' ? slots : 1);
    expect(await adapter.getMany([])).toEqual([]);
  });

  it('works over a given ioredis connection and leaves it open on close()', async () => {
    const connection = await makeInspector(kind);
    const adapter = new RedisL2Adapter({ client: connection, namespace: 'given:' });
    await adapter.set('k', envelope('over a given client', { tags: ['given'] }));
    expect(textOf(await adapter.get('k'))).toBe('over a given client');
    expect(await connection.exists('given:v:k')).toBe(1);
    expect(await adapter.invalidateTags(['given'])).toBe(1);
    await adapter.close();
    expect(connection.status).toBe('ready');
    expect(await connection.ping()).toBe('PONG');
    await expectCode(adapter.get('k'), 'closed');
  });

  it('keeps namespaces apart: clear() of one leaves the other and foreign keys', async () => {
    const alpha = await makeAdapter(kind, { namespace: 'alpha:' });
    const beta = await makeAdapter(kind, { namespace: 'beta:' });
    const inspector = await makeInspector(kind);
    await inspector.set('foreign:key', 'not ours');
    const keys = Array.from({ length: 12 }, (_, i) => `ns:${i}`);
    for (const key of keys) {
      await alpha.set(key, envelope(`alpha ${key}`, { tags: ['shared-tag'] }));
      await beta.set(key, envelope(`beta ${key}`, { tags: ['shared-tag'] }));
    }
    expect(textOf(await alpha.get('ns:0'))).toBe('alpha ns:0');
    expect(textOf(await beta.get('ns:0'))).toBe('beta ns:0');

    expect(await alpha.invalidateTags(['shared-tag'])).toBe(12);
    expect((await beta.getMany(keys)).map(textOf)).toEqual(keys.map((key) => `beta ${key}`));

    await alpha.set('ns:again', envelope('alpha again', { tags: ['shared-tag'] }));
    const cleared = await alpha.clear();
    expect(cleared).toBeGreaterThanOrEqual(1);
    expect((await allKeys(inspector)).filter((key) => key.startsWith('alpha:'))).toEqual([]);
    expect((await beta.getMany(keys)).map(textOf)).toEqual(keys.map((key) => `beta ${key}`));
    expect(await inspector.get('foreign:key')).toBe('not ours');
    expect(await beta.clear()).toBeGreaterThanOrEqual(12);
    expect((await allKeys(inspector)).filter((key) => key.startsWith('beta:'))).toEqual([]);
    await inspector.del('foreign:key');
  });

  it('invalidates exactly the tagged keys, across slots and nodes', async () => {
    const adapter = await makeAdapter(kind, { namespace: 'tc:' });
    const inspector = await makeInspector(kind);
    const red = kind === 'cluster' ? keysOnEveryNode(inspector, 'red:', 24) : Array.from({ length: 24 }, (_, i) => `red:${i}`);
    const blue = Array.from({ length: 10 }, (_, i) => `blue:${i}`);
    const both = ['both:1', 'both:2'];
    const plain = ['plain:1', 'plain:2'];
    for (const key of red) await adapter.set(key, envelope(key, { tags: ['red'] }));
    for (const key of blue) await adapter.set(key, envelope(key, { tags: ['blue', 'blue'] }));
    for (const key of both) await adapter.set(key, envelope(key, { tags: ['blue', 'red'] }));
    for (const key of plain) await adapter.set(key, envelope(key));

    expect(await adapter.invalidateTags(['red'])).toBe(red.length + both.length);
    const all = [...red, ...blue, ...both, ...plain];
    const alive = (await adapter.getMany(all)).map(textOf);
    expect(alive).toEqual(all.map((key) => (blue.includes(key) || plain.includes(key) ? key : undefined)));
    // Invalidating again finds nothing; a key tagged again after the invalidation is tracked again.
    expect(await adapter.invalidateTags(['red'])).toBe(0);
    await adapter.set('red:0', envelope('red:0 again', { tags: ['red'] }));
    expect(await adapter.invalidateTags(['red', 'blue', 'no-such-tag'])).toBe(1 + blue.length);
    expect((await adapter.getMany(all)).map(textOf)).toEqual(all.map((key) => (plain.includes(key) ? key : undefined)));
    // No tag set of these tags is left behind.
    const leftovers = (await allKeys(inspector)).filter((key) => key.startsWith('tc:t:') && /(red|blue)$/.test(key));
    expect(leftovers).toEqual([]);

    // Many members of one tag (more than the script's UNLINK batch of 500 in one set on a single node).
    const bulk = Array.from({ length: 1200 }, (_, i) => `bulk:${i}`);
    await Promise.all(bulk.map((key) => adapter.set(key, envelope(key, { tags: ['bulk'] }))));
    expect(await adapter.invalidateTags(['bulk'])).toBe(bulk.length);
    expect((await adapter.getMany(bulk)).every((found) => found === undefined)).toBe(true);
    await adapter.delete(plain);
  }, LONG);

  it('invalidates by prefix and by pattern, in L1 glob syntax, never touching bookkeeping', async () => {
    const adapter = await makeAdapter(kind, { namespace: 'pp:' });
    const inspector = await makeInspector(kind);
    const feed = Array.from({ length: 20 }, (_, i) => `feed:${i}`);
    const others = ['feedback:1', 'user:1', 'user:22', 'f[x]:1', 'fx:1', 'a*b', 'axb', 'q?1', 'qz1'];
    for (const key of [...feed, ...others]) await adapter.set(key, envelope(key, { tags: ['pp-tag'] }));

    expect(await adapter.invalidatePrefix('feed:')).toBe(feed.length);
    expect(await adapter.get('feedback:1')).toBeDefined();
    // A glob character in a prefix is literal.
    expect(await adapter.invalidatePrefix('a*')).toBe(1);
    expect(await adapter.get('axb')).toBeDefined();
    // `?` is one character; `[` is literal in L1's dialect (Redis alone would read a class).
    expect(await adapter.invalidatePattern('user:?')).toBe(1);
    expect(textOf(await adapter.get('user:22'))).toBe('user:22');
    expect(await adapter.invalidatePattern('f[x]:*')).toBe(1);
    expect(await adapter.get('fx:1')).toBeDefined();
    // `\` escapes: "q\?1" is the key "q?1" only.
    expect(await adapter.invalidatePattern('q\\?1')).toBe(1);
    expect(await adapter.get('qz1')).toBeDefined();

    const survivors = ['feedback:1', 'user:22', 'fx:1', 'axb', 'qz1'];
    expect((await adapter.getMany(survivors)).map(textOf)).toEqual(survivors);
    // "*" takes every value of the namespace and no tag set: the tag still finds nothing to do.
    expect(await adapter.invalidatePattern('*')).toBe(survivors.length);
    const keys = await allKeys(inspector);
    expect(keys.filter((key) => key.startsWith('pp:v:'))).toEqual([]);
    expect(keys.some((key) => key.startsWith('pp:t:'))).toBe(true);
    expect(await adapter.invalidateTags(['pp-tag'])).toBe(0);
    await adapter.clear();
  });

  it('fails with l2_timeout within the timeout when the server hangs, then works again', async () => {
    const timeoutMs = 200;
    const adapter = await makeAdapter(kind, { timeoutMs });
    const inspector = await makeInspector(kind);
    await adapter.set('slow:key', envelope('slow value'));
    await adapter.set('slow:other', envelope('other value'));
    const port = kind === 'single' ? (single as RedisServer).port : Number(nodeOf(inspector, 'tc:v:slow:key').split(':')[1]);

    const { awake } = await hangServer(port, 1);
    const started = performance.now();
    const error = await expectCode(adapter.get('slow:key'), 'l2_timeout');
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(L2Error);
    expect(waited).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(waited).toBeLessThan(timeoutMs + 150);
    await expectCode(adapter.set('slow:key', envelope('while hung')), 'l2_timeout');
    await expectCode(adapter.getMany(['slow:key', 'slow:other']), 'l2_timeout');
    console.log(`[${kind}] l2_timeout after ${waited.toFixed(1)} ms (timeout ${timeoutMs} ms)`);
    await awake;

    // The late replies were matched to their own requests: each key still reads as its own value.
    const value = textOf(await adapter.get('slow:key'));
    expect(['slow value', 'while hung']).toContain(value);
    expect(textOf(await adapter.get('slow:other'))).toBe('other value');
  }, LONG);

  it('fails with l2_unavailable while Redis is down and works again once it is back on the same port', async () => {
    const adapter = await makeAdapter(kind, { timeoutMs: 250 });
    await adapter.set('down:key', envelope('before'));
    if (kind === 'single') {
      const server = single as RedisServer;
      const port = server.port;
      const closed = new Promise((resolve) => adapter.client.once('close', resolve));
      await server.stop();
      await closed;
      const started = performance.now();
      await expectCode(adapter.get('down:key'), 'l2_unavailable');
      const failedIn = performance.now() - started;
      expect(failedIn).toBeLessThan(50); // no queueing while away: it fails at once
      await expectCode(adapter.set('down:key', envelope('during')), 'l2_unavailable');
      await expectCode(adapter.invalidatePrefix('down:'), 'l2_unavailable');
      console.log(`[single] l2_unavailable after ${failedIn.toFixed(1)} ms`);
      await server.start();
      expect(server.port).toBe(port);
    } else {
      const handle = cluster as RedisClusterHandle;
      const inspector = await makeInspector(kind);
      const owner = nodeOf(inspector, 'tc:v:down:key');
      const node = handle.nodes.find((candidate) => owner.endsWith(`:${candidate.port}`)) as RedisServer;
      const port = node.port;
      await node.stop();
      // Until the other masters declare it failed, a request either times out or is refused.
      const error = await adapter.get('down:key').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(L2Error);
      expect(['l2_unavailable', 'l2_timeout']).toContain((error as L2Error).code);
      await node.start();
      expect(node.port).toBe(port);
      await waitForClusterOk(handle);
    }
    await adapter.ready();
    // Back: writes and reads work (the restarted server kept nothing: no persistence).
    let written = false;
    const deadline = Date.now() + 15_000;
    while (!written) {
      try {
        await adapter.set('down:key', envelope('after'));
        written = true;
      } catch (error) {
        if (!(error instanceof L2Error) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50)); // the client reconnects on its own schedule
      }
    }
    expect(textOf(await adapter.get('down:key'))).toBe('after');
  }, LONG);

  it('refuses bad input with typed errors and leaves the store unchanged', async () => {
    const adapter = await makeAdapter(kind, { namespace: 'bad:' });
    const inspector = await makeInspector(kind);
    await adapter.set('bad:keep', envelope('kept', { tags: ['keep'] }));
    const before = await allKeys(inspector);
    const good = envelope('x');
    const asAny = adapter as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      ['get(number)', () => asAny['get']!.call(adapter, 42), 'invalid_key'],
      ['get(null)', () => asAny['get']!.call(adapter, null), 'invalid_key'],
      ['get("")', () => adapter.get(''), 'empty_key'],
      ['get(huge key)', () => adapter.get('k'.repeat(1025)), 'key_too_large'],
      ['getMany(string)', () => asAny['getMany']!.call(adapter, 'bad:keep'), 'invalid_argument'],
      ['getMany([1])', () => asAny['getMany']!.call(adapter, [1]), 'invalid_key'],
      ['set(number key)', () => asAny['set']!.call(adapter, 7, good), 'invalid_key'],
      ['set(no envelope)', () => asAny['set']!.call(adapter, 'k', undefined), 'invalid_argument'],
      ['set(string value)', () => asAny['set']!.call(adapter, 'k', { ...good, value: 'text' }), 'invalid_value'],
      ['set(huge value)', () => adapter.set('k', { ...good, value: Buffer.alloc(64 * 1024 * 1024 + 1) }), 'value_too_large'],
      ['set(NaN time)', () => adapter.set('k', { ...good, freshUntil: NaN }), 'invalid_ttl'],
      ['set(stale before fresh)', () => adapter.set('k', { ...good, staleUntil: good.freshUntil - 1 }), 'invalid_ttl'],
      ['set(version -1)', () => adapter.set('k', { ...good, version: -1 }), 'invalid_argument'],
      ['set(tags string)', () => asAny['set']!.call(adapter, 'k', { ...good, tags: 'red' }), 'invalid_tags'],
      ['set(tags [""])', () => adapter.set('k', { ...good, tags: [''] }), 'invalid_tags'],
      ['set(tags [1])', () => asAny['set']!.call(adapter, 'k', { ...good, tags: [1] }), 'invalid_tags'],
      ['invalidateTags([])', () => adapter.invalidateTags([]), 'invalid_tags'],
      ['invalidateTags("keep")', () => asAny['invalidateTags']!.call(adapter, 'keep'), 'invalid_tags'],
      ['invalidatePattern(dangling \\)', () => adapter.invalidatePattern('bad\\'), 'invalid_pattern'],
      ['invalidatePattern(null)', () => asAny['invalidatePattern']!.call(adapter, null), 'invalid_pattern'],
      ['invalidatePrefix(3)', () => asAny['invalidatePrefix']!.call(adapter, 3), 'invalid_argument'],
      ['delete([null])', () => asAny['delete']!.call(adapter, [null]), 'invalid_key'],
    ];
    for (const [label, call, code] of cases) {
      const error = await call().then(
        () => new Error(`${label} did not throw`),
        (caught: unknown) => caught,
      );
      expect({ label, code: (error as { code?: unknown }).code }).toEqual({ label, code });
      // Caller errors are TickcacheErrors, never L2Errors: a breaker counting L2Errors ignores them.
      expect(error).toBeInstanceOf(TickcacheError);
      expect((error as Error).message.length).toBeGreaterThan(10);
    }
    expect(await allKeys(inspector)).toEqual(before);
    expect(textOf(await adapter.get('bad:keep'))).toBe('kept');

    // A smaller limit is an option; so are the namespace rules.
    const small = await makeAdapter(kind, { maxValueBytes: 1024, namespace: 'bad:' });
    await expectCode(small.set('k', { ...good, value: Buffer.alloc(1025) }), 'value_too_large');
    for (const options of [{ namespace: '{pinned}' }, { namespace: '' }, { timeoutMs: 0 }, { scanBatch: 1.5 }]) {
      expect(() => new RedisL2Adapter({ ...target(kind), ...options })).toThrow(
        expect.objectContaining({ code: 'invalid_option' }) as unknown as Error,
      );
    }
    expect(() => new RedisL2Adapter({ ...target(kind), client: inspector })).toThrow(
      expect.objectContaining({ code: 'invalid_option' }) as unknown as Error,
    );

    // A foreign value under the namespace is a miss, not an error.
    await inspector.set('bad:v:foreign', 'written by someone else');
    expect(await adapter.get('foreign')).toBeUndefined();
    await adapter.clear();

    // After close() every call says so.
    const closing = await makeAdapter(kind, { namespace: 'bad:' });
    await closing.close();
    await expectCode(closing.get('k'), 'closed');
  });
});

describe('test servers', () => {
  it('retries on a taken port, restarts on the same port, and leaves no process or dir behind', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    const server = new RedisServer({ label: 'support', port: taken });
    try {
      await server.start();
      expect(server.port).not.toBe(taken);
      expect(await rawCommand(server.port, 'PING')).toBe('+PONG\r\n');
      const firstPid = server.pid as number;
      await server.stop();
      await expect(rawCommand(server.port, 'PING', 300)).rejects.toThrow();
      await server.start();
      expect(await rawCommand(server.port, 'PING')).toBe('+PONG\r\n');
      expect(server.pid).not.toBe(firstPid);
      const pid = server.pid as number;
      const dir = server.directory as string;
      expect(existsSync(dir)).toBe(true);
      await server.teardown();
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }) as unknown as Error);
      expect(existsSync(dir)).toBe(false);
    } finally {
      await server.teardown();
      squatter.close();
    }
  }, LONG);
});

describe('envelope and slot helpers', () => {
  it('encodes an envelope to one buffer and back; refuses what is not one', () => {
    const original: L2Envelope = {
      value: Buffer.from('payload'),
      freshUntil: 1_700_000_000_123.5,
      staleUntil: Infinity,
      tags: ['a', 'é', 'x'.repeat(300)],
      version: 12345,
    };
    const bytes = encodeEnvelope(original);
    expect(bytes.length).toBe(28 + (2 + 1) + (2 + 2) + (2 + 300) + 7);
    const decoded = decodeEnvelope(bytes);
    expect({ ...decoded, value: Buffer.from(decoded?.value ?? []).toString() }).toEqual({ ...original, value: 'payload' });
    expect(decodeEnvelope(Buffer.from('plain text from someone else'))).toBeUndefined();
    expect(decodeEnvelope(bytes.subarray(0, 40))).toBeUndefined(); // cut inside the tags
  });

  it('computes the slot of a key as the cluster does, and a hash tag for every slot', async () => {
    const port = (cluster as RedisClusterHandle).nodes[0]?.port as number;
    const probe = new Redis({ host: '127.0.0.1', port });
    inspectors.push(probe);
    const keys = ['tc:v:user:1', 'tc:v:{user:1}:x', 'a{}b', '{}{b}', 'x{y', 'é✓{ü}', '}{a}', 'tc:t:{Zq}tag', ''];
    for (const key of keys) expect(keySlot(key)).toBe(await probe.cluster('KEYSLOT', key));
    for (let slot = 0; slot < SLOT_COUNT; slot += 331) {
      const tag = slotHashTag(slot);
      expect(tag).not.toMatch(/[{}]/);
      expect(keySlot(`tc:t:{${tag}}anything`)).toBe(slot);
      expect(await probe.cluster('KEYSLOT', `{${tag}}`)).toBe(slot);
    }
  }, LONG);
});
