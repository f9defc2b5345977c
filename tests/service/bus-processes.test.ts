// tests/service/bus-processes.test.ts: the invalidation bus between Node processes (issue 4,
// line 4): three service instances, each its own process with createTieredCache on the same
// redis-server. A delete, a tag invalidation, a prefix, a pattern and a clear made in one are
// gone from the others' L1 within 100 ms (measured: each watcher polls its L1 every millisecond
// and reports when the keys disappeared; both processes read the same system clock), and only
// what was named disappears. An instance ignores its own messages (it keeps a value it wrote
// right after its own delete), and after redis-server is stopped and started again on the same
// port the bus works again (resubscribed).

import { startRedis } from './support/redis.js';
import type { RedisServer } from './support/redis.js';
import { startChildren } from './support/instances.js';
import type { TieredChild } from './support/instances.js';

const LONG = 60_000;
const NAMESPACE = 'bus:';
const LATENCY_BOUND_MS = 100;

let redis: RedisServer;
let sender: TieredChild;
let watchers: TieredChild[] = [];
let everyone: TieredChild[] = [];
const latencies: Record<string, number[]> = {};

beforeAll(async () => {
  redis = await startRedis('bus');
  everyone = await startChildren('bus', 3, { port: redis.port, namespace: NAMESPACE });
  [sender, ...watchers] = everyone as [TieredChild, ...TieredChild[]];
}, LONG);

afterAll(async () => {
  console.log(
    `bus latency (ms, sender's call start -> key gone from the other L1): ${Object.entries(latencies)
      .map(([what, ms]) => `${what} ${ms.join('/')}`)
      .join(', ')}`,
  );
  await Promise.all(everyone.map((child) => child.stop()));
  await redis?.teardown();
}, LONG);

interface Status {
  loaderCalls: number;
  l2Ready: boolean;
  breaker: string;
  bus: { connected: boolean; received: number; ignoredOwn: number; resubscribed: number };
  stats: { busErrors: number };
  errors: string[];
}

let watchCounter = 0;

/**
 * Every instance caches `entries` (the sender loads them, the others get them from L2); the
 * watchers watch `gone`; the sender runs the invalidation; each watcher must see `gone` leave
 * its L1 within the bound and keep `kept`.
 */
async function propagates(
  label: string,
  entries: Array<{ key: string; tags?: string[] }>,
  invalidation: { kind: string; values: string[] },
  gone: string[],
): Promise<void> {
  const fill = entries.map(({ key, tags }) => ({ key, value: `value of ${key}`, ttl: '5m', ...(tags ? { tags } : {}) }));
  const loaded = await sender.request<Record<string, string>>('fill', { entries: fill });
  for (const watcher of watchers) {
    const sources = await watcher.request<Record<string, string>>('fill', { entries: fill });
    // The others' copies came from L2, loaded once by the sender (or were still in L1).
    for (const { key } of entries) expect(['l2', 'l1']).toContain(sources[key]);
  }
  expect(Object.keys(loaded)).toHaveLength(entries.length);
  const kept = entries.map(({ key }) => key).filter((key) => !gone.includes(key));
  for (const child of everyone) expect(await child.request<string[]>('has', { keys: gone })).toEqual(gone);

  const ids = watchers.map(() => ++watchCounter);
  await Promise.all(watchers.map((watcher, i) => watcher.request('watch', { watch: ids[i], gone, kept })));
  const { startedAt } = await sender.request<{ startedAt: number }>('invalidate', invalidation);
  const observed = await Promise.all(
    watchers.map((watcher, i) => watcher.waitForEvent('observed', (data) => data['watch'] === ids[i])),
  );
  for (const seen of observed) {
    expect(seen['observedAt']).not.toBeNull();
    const latency = (seen['observedAt'] as number) - startedAt;
    (latencies[label] ??= []).push(latency);
    expect(latency).toBeLessThanOrEqual(LATENCY_BOUND_MS);
    // Only what was named went away.
    expect(seen['keptPresent']).toEqual(kept);
  }
  // The sender's own L1 lost the keys at once (before any bus message).
  expect(await sender.request<string[]>('has', { keys: gone })).toEqual([]);
}

test('a delete in one process is gone from the others within 100 ms', async () => {
  await propagates('delete', [{ key: 'quote:1' }, { key: 'quote:2' }], { kind: 'delete', values: ['quote:1'] }, ['quote:1']);
});

test('a tag invalidation, a prefix, a pattern and a clear propagate the same way', async () => {
  await propagates(
    'tags',
    [
      { key: 'pos:1', tags: ['acct:1'] },
      { key: 'pos:2', tags: ['acct:1', 'desk:fx'] },
      { key: 'pos:3', tags: ['acct:2'] },
    ],
    { kind: 'tags', values: ['acct:1'] },
    ['pos:1', 'pos:2'],
  );
  await propagates(
    'prefix',
    [{ key: 'user:1:a' }, { key: 'user:1:b' }, { key: 'user:10:a' }],
    { kind: 'prefix', values: ['user:1:'] },
    ['user:1:a', 'user:1:b'],
  );
  await propagates(
    'pattern',
    [{ key: 'feed:eq:1' }, { key: 'feed:fx:2' }, { key: 'feed' }, { key: 'news:eq:1' }],
    { kind: 'pattern', values: ['feed:*:?'] },
    ['feed:eq:1', 'feed:fx:2'],
  );
  await propagates(
    'clear',
    [{ key: 'a' }, { key: 'b' }, { key: 'pos:3' }],
    { kind: 'clear', values: [] },
    ['a', 'b', 'pos:3'],
  );
});

test('an instance ignores its own messages; the others count every one', async () => {
  const before = await Promise.all(everyone.map((child) => child.request<Status>('status')));
  // Deleting, then writing the key again at once: the delete's echo arrives after the write
  // and would remove the new value if the sender applied its own messages.
  const result = await sender.request<{ echoed: number; stillCached: boolean; value: unknown }>('deleteThenSet', {
    key: 'own:1',
    value: 'rewritten',
    ttl: '5m',
  });
  expect(result).toEqual({ echoed: 1, stillCached: true, value: 'rewritten' });
  const after = await Promise.all(everyone.map((child) => child.request<Status>('status')));
  // The sender received nothing but its own messages (the delete, and the set, which tells the
  // others to drop their copies); the others got both.
  expect(after[0]!.bus.received).toBe(before[0]!.bus.received);
  expect(after[0]!.bus.ignoredOwn).toBe(before[0]!.bus.ignoredOwn + 2);
  // Every message the sender published so far (5 invalidations + this delete and set) came back to it.
  expect(after[0]!.bus.ignoredOwn).toBe(7);
  for (const i of [1, 2]) {
    expect(after[i]!.bus.ignoredOwn).toBe(0);
    expect(after[i]!.bus.received).toBe(7);
  }
});

test('after redis-server stops and starts again on the same port, the bus resubscribes and works', async () => {
  const port = redis.port;
  await redis.stop();
  // While Redis is down an invalidation still succeeds locally (its publish fails, counted).
  const local = await sender.request<{ startedAt: number }>('invalidate', { kind: 'delete', values: ['nothing'] });
  expect(local.startedAt).toBeGreaterThan(0);
  // Every instance noticed the outage (its subscriber is down) before Redis comes back.
  const downSince = Date.now();
  while (!(await Promise.all(everyone.map((child) => child.request<Status>('status')))).every((s) => !s.bus.connected)) {
    if (Date.now() - downSince > 10_000) throw new Error('the instances never noticed that Redis was down');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await redis.start();
  expect(redis.port).toBe(port);
  const restartedAt = Date.now();

  // Every instance's subscriber reconnects and resubscribes by itself (and its cache connection
  // reconnects: L2 came back empty, no persistence, and must serve the others again below).
  const deadline = Date.now() + 15_000;
  let statuses: Status[] = [];
  for (;;) {
    statuses = await Promise.all(everyone.map((child) => child.request<Status>('status')));
    if (statuses.every((s) => s.bus.connected && s.bus.resubscribed >= 1 && s.l2Ready && s.breaker === 'closed')) break;
    if (Date.now() > deadline) throw new Error(`not resubscribed: ${JSON.stringify(statuses.map((s) => s.bus))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  console.log(`bus: every instance resubscribed ${Date.now() - restartedAt} ms after redis-server was back`);
  expect(statuses[0]!.stats.busErrors).toBeGreaterThanOrEqual(1);

  // The bus carries a delete within the bound again.
  await propagates('after restart', [{ key: 'quote:9' }, { key: 'quote:10' }], { kind: 'delete', values: ['quote:9'] }, ['quote:9']);
}, LONG);
