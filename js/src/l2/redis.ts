// js/src/l2/redis.ts: the L2 adapter (adapter.ts) on Redis through ioredis, for one server and
// for Redis Cluster.
//
// Keys (namespace N, "tc:" by default; it may not contain "{" or "}", which would pin every key
// to one cluster slot):
//   N v:<key>              a value: its envelope, expiring at staleUntil (SET ... PXAT)
//   N t:<tag>              one server: the value keys carrying <tag> (a set)
//   N t:{<h>}<tag>         cluster: the value keys carrying <tag> that live in slot s, where
//                          <h> = slotHashTag(s), so the set shares its values' slot
//   N i:<tag>              cluster: the slots that hold a set for <tag>
// Values and bookkeeping live under different sub-prefixes, so no user key can collide with a
// tag set and a prefix or pattern invalidation can never match (and delete) bookkeeping.
//
// The envelope is one binary string, so one GET (or one MGET for many keys) returns all of it:
//   [0]   0x74 ('t')         [1] format 1          [2..3] tag count (u16 LE)
//   [4]   freshUntil (f64 LE, Infinity allowed)     [12] staleUntil (f64 LE)
//   [20]  version (f64 LE: exact for safe integers) [28] tags: (u16 LE byte length, UTF-8)*
//   then the value bytes, to the end.
// Why binary and not JSON or a hash: the value is bytes already (JSON would need base64: +33%
// and a pass over it both ways); the header is read with fixed offsets, no parsing, and the value
// comes back as a view of the reply buffer (no copy); a Redis hash would need HGETALL per key
// (no MGET) and a second command for its expiry. Unknown magic or format -> a miss, so a later
// format can roll out beside this one.
//
// Tags must be invalidated atomically with what they track: a value written with its tags
// after an invalidation read the tag set would survive it. So a tagged write is one Lua script
// that SETs the value and SADDs it to its tag sets (single server: one EVALSHA; cluster: the tag
// sets share the value's slot, which is what lets the script touch them). Invalidation is one
// script per slot that pops the members and UNLINKs them. On a cluster the script needs to
// know which slots to visit: each tag keeps an index of its slots (N i:<tag>), registered
// BEFORE the value is written (so an invalidation that sees the value also sees its slot; a
// tagged cluster write costs two round trips, an untagged one, one). Every set lives as long as
// its longest-lived member; the write script also drops two random members whose values are
// gone, so a long-lived tag does not collect dead keys.
//
// Prefix and pattern invalidation and clear(): SCAN ... MATCH on every master (never KEYS),
// UNLINK per batch. Globs use L1's dialect (`*`, `?`, `\`), translated: "[" and "]" are escaped.
//
// Failures: each request to Redis is raced against `timeoutMs` (l2_timeout); a client that is
// not connected fails at once (l2_unavailable; our own clients run with the offline queue off,
// so nothing piles up while Redis is away); errors Redis answers with are l2_error, except the
// transient ones (CLUSTERDOWN, LOADING, READONLY, ...) which are l2_unavailable.

import { Cluster, Redis } from 'ioredis';
import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';
import { createHash } from 'node:crypto';
import { TickcacheError } from '../errors.js';
import type { L2Adapter, L2Envelope } from './adapter.js';
import { checkEnvelope, checkGlob, checkKey, checkKeyList, checkTagList, utf8Length } from './adapter.js';
import { L2Error } from './errors.js';
import type { L2ErrorCode } from './errors.js';
import { keySlot, slotHashTag } from './slots.js';

export interface RedisL2Options {
  /** An ioredis connection (Redis or Cluster) to use; the caller owns it (close() leaves it open). */
  client?: Redis | Cluster;
  /** Connection options or a URL for a single server; the adapter opens and owns the connection. */
  redis?: RedisOptions | string;
  /** Startup nodes (and options) for Redis Cluster; the adapter opens and owns the connection. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
  /** Prefix of every key. Default "tc:". No "{" or "}" (see the file comment). */
  namespace?: string;
  /** Longest wait for one request, in ms. Default 250. */
  timeoutMs?: number;
  /** Longest whole SCAN-based call (prefix, pattern, clear), in ms. Default 30,000. */
  scanTimeoutMs?: number;
  /** SCAN COUNT hint and UNLINK batch size. Default 1000. */
  scanBatch?: number;
  /** Default 1024 bytes (L1's default). */
  maxKeyBytes?: number;
  /** Default 64 MiB (L1's default). */
  maxValueBytes?: number;
  /** Epoch ms; tests pass a fake clock. Default Date.now. */
  clock?: () => number;
}

const DEFAULT_NAMESPACE = 'tc:';
const DEFAULT_TIMEOUT_MS = 250;
const DEFAULT_SCAN_TIMEOUT_MS = 30_000;
const DEFAULT_SCAN_BATCH = 1000;
const DEFAULT_MAX_KEY_BYTES = 1024;
const DEFAULT_MAX_VALUE_BYTES = 64 * 1024 * 1024;

// ---- envelope encoding ----------------------------------------------------------------------

const MAGIC = 0x74;
const FORMAT = 1;
const HEADER_BYTES = 28;

export function encodeEnvelope(envelope: L2Envelope): Buffer {
  let tagBytes = 0;
  for (const tag of envelope.tags) tagBytes += 2 + utf8Length(tag);
  const out = Buffer.allocUnsafe(HEADER_BYTES + tagBytes + envelope.value.byteLength);
  out[0] = MAGIC;
  out[1] = FORMAT;
  out.writeUInt16LE(envelope.tags.length, 2);
  out.writeDoubleLE(envelope.freshUntil, 4);
  out.writeDoubleLE(envelope.staleUntil, 12);
  out.writeDoubleLE(envelope.version, 20);
  let offset = HEADER_BYTES;
  for (const tag of envelope.tags) {
    const length = out.write(tag, offset + 2, 'utf8');
    out.writeUInt16LE(length, offset);
    offset += 2 + length;
  }
  out.set(envelope.value, offset);
  return out;
}

/** The envelope in `bytes`, or undefined when they are not one (another format, truncated). */
export function decodeEnvelope(bytes: Buffer): L2Envelope | undefined {
  if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC || bytes[1] !== FORMAT) return undefined;
  const tagCount = bytes.readUInt16LE(2);
  const freshUntil = bytes.readDoubleLE(4);
  const staleUntil = bytes.readDoubleLE(12);
  const version = bytes.readDoubleLE(20);
  const tags: string[] = [];
  let offset = HEADER_BYTES;
  for (let i = 0; i < tagCount; ++i) {
    if (offset + 2 > bytes.length) return undefined;
    const length = bytes.readUInt16LE(offset);
    if (offset + 2 + length > bytes.length) return undefined;
    tags.push(bytes.toString('utf8', offset + 2, offset + 2 + length));
    offset += 2 + length;
  }
  return { value: bytes.subarray(offset), freshUntil, staleUntil, tags, version };
}

// ---- scripts ------------------------------------------------------------------------------

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// Keeps a set alive as long as its longest-lived member. `existed`: whether the set was there
// before this SADD (a new set has no expiry yet; an old one without expiry holds a member that
// never expires and must stay persistent).
const KEEP_UNTIL_LUA = `
local function keep_until(set, pxat, existed)
  if pxat == '' then
    redis.call('PERSIST', set)
  elseif existed == 0 then
    redis.call('PEXPIREAT', set, pxat)
  elseif redis.call('PTTL', set) >= 0 then
    redis.call('PEXPIREAT', set, pxat, 'GT')
  end
end
`;

/** KEYS[1] value key, KEYS[2..] its tag sets (same slot); ARGV[1] envelope, ARGV[2] PXAT or ''. */
const SET_WITH_TAGS = script(`${KEEP_UNTIL_LUA}
local key = KEYS[1]
local pxat = ARGV[2]
if pxat == '' then
  redis.call('SET', key, ARGV[1])
else
  redis.call('SET', key, ARGV[1], 'PXAT', pxat)
end
for i = 2, #KEYS do
  local set = KEYS[i]
  for _, member in ipairs(redis.call('SRANDMEMBER', set, 2)) do
    if member ~= key and redis.call('EXISTS', member) == 0 then
      redis.call('SREM', set, member)
    end
  end
  local existed = redis.call('EXISTS', set)
  redis.call('SADD', set, key)
  keep_until(set, pxat, existed)
end
return #KEYS - 1
`);

/** KEYS[1] a tag's slot index; ARGV[1] slot, ARGV[2] PXAT or ''. */
const REGISTER_SLOT = script(`${KEEP_UNTIL_LUA}
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SADD', KEYS[1], ARGV[1])
keep_until(KEYS[1], ARGV[2], existed)
return 1
`);

/** KEYS: tag sets (one slot); removes their members and the sets; returns how many members existed. */
const INVALIDATE_TAG_SETS = script(`
local removed = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for first = 1, #members, 500 do
    removed = removed + redis.call('UNLINK', unpack(members, first, math.min(first + 499, #members)))
  end
  redis.call('UNLINK', KEYS[i])
end
return removed
`);

// ---- errors -------------------------------------------------------------------------------

// Replies that mean "not now" rather than "no": the cluster is reconfiguring, the server is
// loading, a replica was promoted, a script is hogging the server.
const TRANSIENT_REPLY = /^(CLUSTERDOWN|LOADING|READONLY|MASTERDOWN|TRYAGAIN|BUSY|MOVED|ASK)\b/;

function toL2Error(operation: string, error: unknown): L2Error | TickcacheError {
  if (error instanceof L2Error || error instanceof TickcacheError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  const message = String((error as { message?: unknown } | null)?.message ?? error);
  let code: L2ErrorCode;
  if (name === 'ReplyError') code = TRANSIENT_REPLY.test(message) ? 'l2_unavailable' : 'l2_error';
  else if (/timed out/i.test(message)) code = 'l2_timeout';
  else code = 'l2_unavailable'; // ioredis's other errors are all about the connection
  return new L2Error(code, operation, message, { cause: error });
}

// ---- glob translation -----------------------------------------------------------------------

/** Escapes a literal for Redis MATCH. */
function globLiteral(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}

/** L1's glob dialect (`*`, `?`, `\x`) as a Redis MATCH pattern (which also knows `[...]`). */
function redisGlob(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; ++i) {
    const char = pattern[i] as string;
    if (char === '\\') {
      out += `\\${pattern[++i] as string}`;
    } else if (char === '[' || char === ']') {
      out += `\\${char}`;
    } else {
      out += char;
    }
  }
  return out;
}

// ---- the adapter ----------------------------------------------------------------------------

type Connection = Redis | Cluster;

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : typeof value;
}

function positiveInteger(options: RedisL2Options, name: keyof RedisL2Options, fallback: number): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TickcacheError('invalid_option', `${name} must be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}

export class RedisL2Adapter implements L2Adapter {
  readonly description: string;
  readonly namespace: string;
  readonly timeoutMs: number;
  /** The connection (Redis or Cluster), e.g. for a bus or a lock that shares it. */
  readonly client: Connection;
  readonly isCluster: boolean;

  private readonly ownsClient: boolean;
  // Both connection kinds offer the same command methods; TypeScript cannot call an overloaded
  // method through the union, so commands go through this one view of it.
  private readonly commands: Redis;
  private readonly scanTimeoutMs: number;
  private readonly scanBatch: number;
  private readonly maxKeyBytes: number;
  private readonly maxValueBytes: number;
  private readonly clock: () => number;
  private closed = false;

  constructor(options: RedisL2Options) {
    if (typeof options !== 'object' || options === null) {
      throw new TickcacheError('invalid_option', 'RedisL2Adapter takes an options object { client | redis | cluster, ... }');
    }
    const sources = [options.client, options.redis, options.cluster].filter((source) => source !== undefined);
    if (sources.length !== 1) {
      throw new TickcacheError('invalid_option', 'give exactly one of client, redis and cluster');
    }
    const namespace = options.namespace ?? DEFAULT_NAMESPACE;
    if (typeof namespace !== 'string' || namespace === '' || /[{}]/.test(namespace)) {
      throw new TickcacheError(
        'invalid_option',
        `namespace must be a non-empty string without "{" or "}", got ${describeValue(namespace)}`,
      );
    }
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new TickcacheError('invalid_option', 'clock must be a function returning epoch milliseconds');
    }
    this.namespace = namespace;
    this.timeoutMs = positiveInteger(options, 'timeoutMs', DEFAULT_TIMEOUT_MS);
    this.scanTimeoutMs = positiveInteger(options, 'scanTimeoutMs', DEFAULT_SCAN_TIMEOUT_MS);
    this.scanBatch = positiveInteger(options, 'scanBatch', DEFAULT_SCAN_BATCH);
    this.maxKeyBytes = positiveInteger(options, 'maxKeyBytes', DEFAULT_MAX_KEY_BYTES);
    this.maxValueBytes = positiveInteger(options, 'maxValueBytes', DEFAULT_MAX_VALUE_BYTES);
    this.clock = options.clock ?? Date.now;

    if (options.client !== undefined) {
      if (!(options.client instanceof Redis) && !(options.client instanceof Cluster)) {
        throw new TickcacheError('invalid_option', 'client must be an ioredis Redis or Cluster');
      }
      this.client = options.client;
      this.ownsClient = false;
      if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
    } else if (options.cluster !== undefined) {
      // No offline queue: while the cluster is away a call fails at once (l2_unavailable)
      // instead of waiting for its timeout in a queue that grows with the load.
      this.client = new Cluster(options.cluster.nodes, {
        enableOfflineQueue: false,
        ...options.cluster.options,
        redisOptions: { commandTimeout: this.timeoutMs, ...options.cluster.options?.redisOptions },
      });
      this.ownsClient = true;
    } else {
      // ioredis's own commandTimeout bounds each request (cheaper than racing a timer per call).
      const ours: RedisOptions = { enableOfflineQueue: false, commandTimeout: this.timeoutMs };
      const redisOptions: RedisOptions = typeof options.redis === 'string' ? ours : { ...ours, ...options.redis };
      this.client =
        typeof options.redis === 'string' ? new Redis(options.redis, redisOptions) : new Redis(redisOptions);
      this.ownsClient = true;
    }
    // A client the adapter owns must not crash the process with an unhandled 'error' event;
    // failures reach callers through the calls.
    if (this.ownsClient) this.client.on('error', () => undefined);
    this.isCluster = this.client instanceof Cluster;
    this.commands = this.client as unknown as Redis;
    this.description = `redis${this.isCluster ? ' cluster' : ''} ${this.address(options)} ${namespace}`;
  }

  private address(options: RedisL2Options): string {
    if (this.client instanceof Cluster) {
      const first = options.cluster?.nodes[0];
      if (first === undefined) return '(given cluster client)';
      return typeof first === 'object' ? `${String(first.host ?? '')}:${String(first.port ?? '')}` : String(first);
    }
    return `${this.client.options.host ?? ''}:${this.client.options.port ?? ''}`;
  }

  /** Resolves once connected (cluster: slots known); rejects with l2_unavailable after `timeoutMs`. */
  async ready(timeoutMs = 10_000): Promise<void> {
    this.ensureOpen();
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.removeListener('ready', onReady);
        reject(new L2Error('l2_unavailable', 'ready', `not connected after ${timeoutMs} ms (${this.client.status})`));
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    });
  }

  // ---- keys ----

  private valueKey(key: string): string {
    return `${this.namespace}v:${key}`;
  }

  private tagSetKey(tag: string): string {
    return `${this.namespace}t:${tag}`;
  }

  private clusterTagSetKey(tag: string, slot: number): string {
    return `${this.namespace}t:{${slotHashTag(slot)}}${tag}`;
  }

  private tagIndexKey(tag: string): string {
    return `${this.namespace}i:${tag}`;
  }

  // ---- requests ----

  private ensureOpen(): void {
    if (this.closed) throw new TickcacheError('closed', `the L2 adapter (${this.description}) was closed`);
  }

  /**
   * One request to Redis within the timeout; every failure becomes an L2Error. A connection the
   * adapter opened enforces the timeout itself (ioredis commandTimeout); one the caller gave is
   * raced against a timer.
   */
  private request<T>(operation: string, send: () => Promise<T>, connection: Connection = this.client): Promise<T> {
    if (connection.status !== 'ready' && connection === this.client) {
      return Promise.reject(
        new L2Error('l2_unavailable', operation, `not connected to ${this.description} (${connection.status})`),
      );
    }
    if (!this.ownsClient) return this.raceRequest(operation, send);
    let pending: Promise<T>;
    try {
      pending = send();
    } catch (error) {
      return Promise.reject(toL2Error(operation, error));
    }
    return pending.catch((error: unknown) => {
      throw toL2Error(operation, error);
    });
  }

  /** A request on a connection the caller gave (no commandTimeout of ours): raced against a timer. */
  private async raceRequest<T>(operation: string, send: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pending: Promise<T>;
    try {
      pending = send();
    } catch (error) {
      throw toL2Error(operation, error);
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new L2Error('l2_timeout', operation, `no answer from ${this.description} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      throw toL2Error(operation, error);
    } finally {
      clearTimeout(timer);
      // A late answer (or failure) after the timeout is dropped here, not left unhandled.
      pending.catch(() => undefined);
    }
  }

  /** EVALSHA, falling back to EVAL when the server does not know the script yet (after a restart). */
  private async runScript(
    connection: Redis,
    code: Script,
    keys: readonly string[],
    args: ReadonlyArray<string | Buffer>,
  ): Promise<unknown> {
    try {
      return await connection.evalsha(code.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!/^NOSCRIPT/.test(String((error as { message?: unknown }).message))) throw error;
      return connection.eval(code.source, keys.length, ...keys, ...args);
    }
  }

  /** Runs a pipeline and returns its replies, failing with the first command error. */
  private static async execPipeline(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, reply]) => {
      if (error) throw error;
      return reply;
    });
  }

  /** Cluster: the master serving `slot` now (its "host:port"), from the client's slot table. */
  private nodeOfSlot(operation: string, slot: number): string {
    const nodes = (this.client as Cluster).slots[slot];
    const master = nodes?.[0];
    if (master === undefined) throw new L2Error('l2_unavailable', operation, `no node serves slot ${slot}`);
    return master;
  }

  /** Cluster: groups items by the master that serves their slot, then by slot. */
  private groupByNode<T>(operation: string, items: ReadonlyArray<{ slot: number; item: T }>): Map<string, Map<number, T[]>> {
    const byNode = new Map<string, Map<number, T[]>>();
    for (const { slot, item } of items) {
      const node = this.nodeOfSlot(operation, slot);
      let bySlot = byNode.get(node);
      if (bySlot === undefined) byNode.set(node, (bySlot = new Map()));
      let list = bySlot.get(slot);
      if (list === undefined) bySlot.set(slot, (list = []));
      list.push(item);
    }
    return byNode;
  }

  // ---- reads ----

  private live(bytes: Buffer | null | undefined, now: number): L2Envelope | undefined {
    if (bytes === null || bytes === undefined) return undefined;
    const envelope = decodeEnvelope(bytes);
    // Redis drops a value at staleUntil; this check covers the millisecond PXAT rounds up.
    return envelope !== undefined && envelope.staleUntil > now ? envelope : undefined;
  }

  // Not async: the L2 hit is a latency path, and every async layer costs a promise and a hop.
  get(key: string): Promise<L2Envelope | undefined> {
    try {
      checkKey(key, this.maxKeyBytes);
      this.ensureOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.request('get', () => this.commands.getBuffer(this.valueKey(key))).then((bytes) =>
      this.live(bytes, this.clock()),
    );
  }

  async getMany(keys: readonly string[]): Promise<Array<L2Envelope | undefined>> {
    checkKeyList(keys, this.maxKeyBytes, 'getMany');
    this.ensureOpen();
    if (keys.length === 0) return [];
    const valueKeys = keys.map((key) => this.valueKey(key));
    const replies: Array<Buffer | null> = new Array<Buffer | null>(keys.length).fill(null);
    if (!this.isCluster) {
      const found = await this.request('getMany', () => this.commands.mgetBuffer(valueKeys));
      found.forEach((bytes, i) => (replies[i] = bytes));
    } else {
      // One pipeline per master: one MGET per slot (a command may not span slots).
      const byNode = this.groupByNode(
        'getMany',
        valueKeys.map((valueKey, index) => ({ slot: keySlot(valueKey), item: index })),
      );
      await Promise.all(
        [...byNode.values()].map(async (bySlot) => {
          const slotLists = [...bySlot.values()];
          const results = await this.request('getMany', () => {
            const pipeline = this.commands.pipeline();
            for (const indexes of slotLists) pipeline.mgetBuffer(indexes.map((i) => valueKeys[i] as string));
            return RedisL2Adapter.execPipeline(pipeline);
          });
          slotLists.forEach((indexes, n) => {
            const found = results[n] as Array<Buffer | null>;
            indexes.forEach((index, j) => (replies[index] = found[j] ?? null));
          });
        }),
      );
    }
    const now = this.clock();
    return replies.map((bytes) => this.live(bytes, now));
  }

  // ---- writes ----

  async set(key: string, envelope: L2Envelope): Promise<void> {
    checkKey(key, this.maxKeyBytes);
    checkEnvelope(envelope, this.maxValueBytes);
    this.ensureOpen();
    if (!(envelope.staleUntil > this.clock())) {
      await this.delete([key]);
      return;
    }
    const valueKey = this.valueKey(key);
    const encoded = encodeEnvelope(envelope);
    const pxat = envelope.staleUntil === Infinity ? '' : String(Math.ceil(envelope.staleUntil));
    const tags = [...new Set(envelope.tags)];
    if (tags.length === 0) {
      await this.request('set', () =>
        pxat === '' ? this.commands.set(valueKey, encoded) : this.commands.set(valueKey, encoded, 'PXAT', pxat),
      );
      return;
    }
    if (!this.isCluster) {
      const tagSets = tags.map((tag) => this.tagSetKey(tag));
      await this.request('set', () => this.runScript(this.commands, SET_WITH_TAGS, [valueKey, ...tagSets], [encoded, pxat]));
      return;
    }
    const slot = keySlot(valueKey);
    // First the slot indexes (in parallel: each lives in its own tag's slot), then the value:
    // an invalidation that can see the value can also find its slot.
    await Promise.all(
      tags.map((tag) =>
        this.request('set', () => this.runScript(this.commands, REGISTER_SLOT, [this.tagIndexKey(tag)], [String(slot), pxat])),
      ),
    );
    const tagSets = tags.map((tag) => this.clusterTagSetKey(tag, slot));
    await this.request('set', () => this.runScript(this.commands, SET_WITH_TAGS, [valueKey, ...tagSets], [encoded, pxat]));
  }

  async delete(keys: string | readonly string[]): Promise<number> {
    if (typeof keys === 'string') checkKey(keys, this.maxKeyBytes);
    const list = typeof keys === 'string' ? [keys] : checkKeyList(keys, this.maxKeyBytes, 'delete');
    this.ensureOpen();
    if (list.length === 0) return 0;
    const valueKeys = [...new Set(list.map((key) => this.valueKey(key)))];
    if (!this.isCluster) return this.request('delete', () => this.commands.unlink(valueKeys));
    const byNode = this.groupByNode('delete', valueKeys.map((valueKey) => ({ slot: keySlot(valueKey), item: valueKey })));
    const counts = await Promise.all(
      [...byNode.values()].map((bySlot) =>
        this.request('delete', () => {
          const pipeline = this.commands.pipeline();
          for (const slotKeys of bySlot.values()) pipeline.unlink(slotKeys);
          return RedisL2Adapter.execPipeline(pipeline);
        }),
      ),
    );
    return counts.flat().reduce<number>((sum, count) => sum + Number(count), 0);
  }

  // ---- invalidation ----

  async invalidateTags(tags: readonly string[]): Promise<number> {
    checkTagList(tags, 'invalidateTags', false);
    this.ensureOpen();
    const unique = [...new Set(tags)];
    if (!this.isCluster) {
      const removed = await this.request('invalidateTags', () =>
        this.runScript(this.commands, INVALIDATE_TAG_SETS, unique.map((tag) => this.tagSetKey(tag)), []),
      );
      return Number(removed);
    }
    // Round trip 1: which slots hold each tag's members.
    const slotLists = await Promise.all(
      unique.map((tag) => this.request('invalidateTags', () => this.commands.smembers(this.tagIndexKey(tag)))),
    );
    const work: Array<{ slot: number; item: string }> = [];
    unique.forEach((tag, i) => {
      for (const slotText of slotLists[i] as string[]) {
        const slot = Number(slotText);
        work.push({ slot, item: this.clusterTagSetKey(tag, slot) });
      }
    });
    if (work.length === 0) return 0;
    // Round trip 2, per master: load the script, then one EVALSHA per slot with that slot's sets.
    // (The slot indexes stay: removing a slot could race with a writer registering it; they
    // expire with their longest-lived member.)
    const byNode = this.groupByNode('invalidateTags', work);
    const counts = await Promise.all(
      [...byNode.values()].map((bySlot) =>
        this.request('invalidateTags', async () => {
          const pipeline = this.commands.pipeline();
          pipeline.script('LOAD', INVALIDATE_TAG_SETS.source);
          for (const tagSets of bySlot.values()) pipeline.evalsha(INVALIDATE_TAG_SETS.sha, tagSets.length, ...tagSets);
          return (await RedisL2Adapter.execPipeline(pipeline)).slice(1);
        }),
      ),
    );
    return counts.flat().reduce<number>((sum, count) => sum + Number(count), 0);
  }

  async invalidatePrefix(prefix: string): Promise<number> {
    if (typeof prefix !== 'string') {
      throw new TickcacheError('invalid_argument', `a prefix must be a string, got ${describeValue(prefix)}`);
    }
    this.ensureOpen();
    return this.scanAndUnlink('invalidatePrefix', `${globLiteral(`${this.namespace}v:${prefix}`)}*`);
  }

  async invalidatePattern(pattern: string): Promise<number> {
    checkGlob(pattern);
    this.ensureOpen();
    return this.scanAndUnlink('invalidatePattern', `${globLiteral(`${this.namespace}v:`)}${redisGlob(pattern)}`);
  }

  async clear(): Promise<number> {
    this.ensureOpen();
    return this.scanAndUnlink('clear', `${globLiteral(this.namespace)}*`);
  }

  /** SCAN MATCH on every master, UNLINK each batch found; each request is timed, the whole too. */
  private async scanAndUnlink(operation: string, match: string): Promise<number> {
    if (this.client.status !== 'ready') {
      throw new L2Error('l2_unavailable', operation, `not connected to ${this.description} (${this.client.status})`);
    }
    const masters = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    const deadline = this.clock() + this.scanTimeoutMs;
    const counts = await Promise.all(
      masters.map(async (node) => {
        let removed = 0;
        let cursor = '0';
        do {
          if (this.clock() > deadline) {
            throw new L2Error('l2_timeout', operation, `scanning took longer than ${this.scanTimeoutMs} ms`);
          }
          const [next, keys] = await this.request(
            operation,
            () => node.scanBuffer(cursor, 'MATCH', match, 'COUNT', this.scanBatch),
            node,
          );
          cursor = next.toString();
          if (keys.length === 0) continue;
          if (this.isCluster) {
            // A node connection checks no slots, but the server refuses multi-key commands
            // across slots: one UNLINK per key, in one pipeline.
            const replies = await this.request(
              operation,
              () => {
                const pipeline = node.pipeline();
                for (const key of keys) pipeline.unlink(key);
                return RedisL2Adapter.execPipeline(pipeline);
              },
              node,
            );
            for (const reply of replies) removed += Number(reply);
          } else {
            removed += await this.request(operation, () => node.unlink(keys), node);
          }
        } while (cursor !== '0');
        return removed;
      }),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.ownsClient) return;
    try {
      await Promise.race([
        this.client.quit(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('quit timed out')), this.timeoutMs).unref()),
      ]);
    } catch {
      // Not connected or too slow: drop the connection without waiting.
    }
    this.client.disconnect();
  }
}
