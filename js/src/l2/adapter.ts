// js/src/l2/adapter.ts: the contract of an L2 tier -- a store shared by the instances of a
// service (Redis today; a disk or IndexedDB store later) -- and the checks every adapter makes
// on its inputs.
//
// What travels is an envelope: the value's bytes plus the absolute instants (epoch ms) at which
// it turns stale and at which it is gone, its tags and its version. Absolute instants make an L2
// hit fill L1 with exactly the time that remains (remainingTimes below), however long the value
// sat in L2; they assume the instances' clocks agree (NTP), as every shared-expiry cache does.
//
// Invariants every adapter keeps:
// - Inputs are checked before any I/O; a bad one throws a TickcacheError naming the value
//   (invalid_key, empty_key, key_too_large, invalid_tags, value_too_large, invalid_argument,
//   invalid_pattern) and nothing in the store changes.
// - A store failure rejects with an L2Error (l2_timeout, l2_unavailable, l2_error); no call
//   waits longer than the adapter's timeout for one request.
// - A failed write or invalidation may have been partly applied (the store is remote; the
//   request may even land after the timeout). Invalidations are idempotent: retry them.
// - Every key lives under the adapter's namespace; nothing outside it is read or removed.

import { TickcacheError } from '../errors.js';

/** A cached value as L2 stores it. */
export interface L2Envelope {
  /** The serialized value. Adapters may return a view into a larger buffer: copy to keep it past the next call. */
  value: Uint8Array;
  /** Epoch ms at which the value turns stale; +Infinity: never. */
  freshUntil: number;
  /** Epoch ms at which the value is gone (end of its grace); >= freshUntil; +Infinity: never. */
  staleUntil: number;
  /** Tags for invalidateTags; kept in L2 and handed back so L1 can carry them too. */
  tags: readonly string[];
  /** A non-negative integer that changes when the value changes (for ETags); stored as given. */
  version: number;
}

export interface L2Adapter {
  /** A short description for logs and stats ("redis 127.0.0.1:6379 tc:"). */
  readonly description: string;

  /**
   * The envelope stored under `key`, or undefined when there is none or it is past staleUntil.
   * A stored entry this adapter cannot decode (another format) is a miss, not an error.
   */
  get(key: string): Promise<L2Envelope | undefined>;

  /**
   * Envelopes for `keys`, in order (undefined for a miss), in as few round trips as the store
   * allows: one for a single server; one per server involved for a cluster. Duplicates are allowed.
   */
  getMany(keys: readonly string[]): Promise<Array<L2Envelope | undefined>>;

  /**
   * Stores the envelope under `key`, replacing what was there, with the tags' membership; the
   * store drops it by itself at staleUntil. An envelope already past staleUntil deletes the key.
   * Replacing a value with one carrying different tags leaves the key in the old tags too: a
   * later invalidation of an old tag removes it (one extra miss, never a stale value).
   */
  set(key: string, envelope: L2Envelope): Promise<void>;

  /** Removes the keys; resolves to how many existed. */
  delete(keys: string | readonly string[]): Promise<number>;

  /** Removes every key stored with any of the tags; resolves to how many existed. An empty list is refused. */
  invalidateTags(tags: readonly string[]): Promise<number>;

  /** Removes every key starting with `prefix` ("" means every key of the namespace). */
  invalidatePrefix(prefix: string): Promise<number>;

  /** Removes every key matching the glob (`*`, `?`, `\` escapes: the same globs as L1). */
  invalidatePattern(pattern: string): Promise<number>;

  /** Removes everything of this adapter's namespace (values and bookkeeping), nothing else. */
  clear(): Promise<number>;

  /** Releases connections the adapter opened (not those it was given). Later calls throw `closed`. */
  close(): Promise<void>;
}

/** Remaining L1 times for an envelope read at `now`: undefined when it is already gone. */
export function remainingTimes(envelope: L2Envelope, now: number): { ttl: number; grace: number } | undefined {
  if (!(envelope.staleUntil > now)) return undefined;
  const ttl = Math.max(0, envelope.freshUntil - now);
  // Grace counts from the later of "now" and freshUntil, so fresh + grace ends at staleUntil.
  const grace = envelope.staleUntil === Infinity ? Infinity : envelope.staleUntil - Math.max(now, envelope.freshUntil);
  return { ttl, grace: Number.isNaN(grace) ? 0 : grace };
}

// ---- input checks shared by adapters -----------------------------------------------------


function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function checkKey(key: unknown, maxKeyBytes: number): asserts key is string {
  if (typeof key !== 'string') {
    throw new TickcacheError('invalid_key', `a key must be a string, got ${describe(key)}`);
  }
  if (key.length === 0) throw new TickcacheError('empty_key', 'a key cannot be empty');
  const bytes = utf8Length(key);
  if (bytes > maxKeyBytes) {
    throw new TickcacheError('key_too_large', `key ${describe(key)} has ${bytes} bytes; the limit is ${maxKeyBytes}`);
  }
}

export function checkKeyList(keys: unknown, maxKeyBytes: number, what: string): readonly string[] {
  if (!Array.isArray(keys)) {
    throw new TickcacheError('invalid_argument', `${what} takes an array of keys, got ${describe(keys)}`);
  }
  for (const key of keys) checkKey(key, maxKeyBytes);
  return keys as readonly string[];
}

export const MAX_TAG_BYTES = 0xffff;
export const MAX_TAGS = 0xffff;

/** Tags of a set: an array (possibly empty) of non-empty strings, each at most 64 KiB. */
export function checkTagList(tags: unknown, what: string, allowEmpty: boolean): readonly string[] {
  if (!Array.isArray(tags)) {
    throw new TickcacheError('invalid_tags', `${what}: tags must be an array of strings, got ${describe(tags)}`);
  }
  if (!allowEmpty && tags.length === 0) {
    throw new TickcacheError('invalid_tags', `${what}: the tag list is empty`);
  }
  if (tags.length > MAX_TAGS) {
    throw new TickcacheError('invalid_tags', `${what}: ${tags.length} tags; the limit is ${MAX_TAGS}`);
  }
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0) {
      throw new TickcacheError('invalid_tags', `${what}: a tag must be a non-empty string, got ${describe(tag)}`);
    }
    if (utf8Length(tag) > MAX_TAG_BYTES) {
      throw new TickcacheError('invalid_tags', `${what}: tag ${describe(tag)} is longer than ${MAX_TAG_BYTES} bytes`);
    }
  }
  return tags as readonly string[];
}

function isInstant(value: unknown): value is number {
  return typeof value === 'number' && !Number.isNaN(value) && value !== -Infinity;
}

/** Checks an envelope's shape and times; returns its tags (checked). */
export function checkEnvelope(envelope: unknown, maxValueBytes: number): L2Envelope {
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw new TickcacheError(
      'invalid_argument',
      `an envelope must be an object { value, freshUntil, staleUntil, tags, version }, got ${describe(envelope)}`,
    );
  }
  const { value, freshUntil, staleUntil, tags, version } = envelope as Partial<L2Envelope>;
  if (!(value instanceof Uint8Array)) {
    throw new TickcacheError('invalid_value', `envelope.value must be a Uint8Array, got ${describe(value)}`);
  }
  if (value.byteLength > maxValueBytes) {
    throw new TickcacheError(
      'value_too_large',
      `envelope.value has ${value.byteLength} bytes; the limit is ${maxValueBytes}`,
    );
  }
  if (!isInstant(freshUntil) || !isInstant(staleUntil)) {
    throw new TickcacheError(
      'invalid_ttl',
      'envelope.freshUntil and staleUntil must be epoch milliseconds or Infinity, ' +
        `got ${describe(freshUntil)} and ${describe(staleUntil)}`,
    );
  }
  if (staleUntil < freshUntil) {
    throw new TickcacheError('invalid_ttl', `envelope.staleUntil (${staleUntil}) is before freshUntil (${freshUntil})`);
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
    throw new TickcacheError('invalid_argument', `envelope.version must be a non-negative safe integer, got ${describe(version)}`);
  }
  checkTagList(tags, 'envelope.tags', true);
  return envelope as L2Envelope;
}

/** Checks a glob of L1's dialect: `*`, `?`, and `\` escaping the next character (a trailing `\` is refused). */
export function checkGlob(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string') {
    throw new TickcacheError('invalid_pattern', `a pattern must be a string, got ${describe(pattern)}`);
  }
  let escaped = false;
  for (const char of pattern) escaped = escaped ? false : char === '\\';
  if (escaped) {
    throw new TickcacheError('invalid_pattern', `pattern ${describe(pattern)} ends with a dangling escape "\\"`);
  }
}

