// js/src/options.ts: checks what callers pass (options, durations, tags) and turns cache options
// into the JSON the core parses (bindings/PROTOCOL.md, "Creating").
//
// Invariants: a wrong type is refused here with a TickcacheError naming the option; a value of
// the right type is left for the core to judge, so the rules live in one place (core/). Duration
// strings are parsed by the core (the backend's parseDuration), so "5m" means the same in every
// host; parsed strings are memoized because a TTL string is usually a constant at a call site.

import { TickcacheError, messageOf } from './errors.js';
import type { Backend } from './core-protocol.js';
import type { CacheOptions, Duration } from './types.js';

const CORE_OPTION_NAMES = [
  'maxEntries',
  'maxBytes',
  'policy',
  'defaultTtl',
  'defaultGrace',
  'maxKeyBytes',
  'maxValueBytes',
  'shards',
  'hashSeed',
  'config',
  'store',
] as const;
const HOST_OPTION_NAMES = ['mode', 'serializer', 'backend', 'name', 'clock'] as const;
const KNOWN_OPTIONS: ReadonlySet<string> = new Set([...CORE_OPTION_NAMES, ...HOST_OPTION_NAMES]);
const NUMBER_OPTIONS = ['maxEntries', 'maxBytes', 'maxKeyBytes', 'maxValueBytes', 'shards', 'hashSeed'];
const DURATION_MEMO_LIMIT = 1024;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function refuse(option: string, expected: string, got: unknown): never {
  throw new TickcacheError('invalid_option', `${option} must be ${expected}, got ${describe(got)}`);
}

/** Checks the host-side options and returns the JSON document the core's ParseOptionsJson reads. */
export function coreOptionsJson(options: CacheOptions): string {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    refuse('options', 'an object', options);
  }
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) {
      throw new TickcacheError('invalid_option', `unknown option ${JSON.stringify(name)}`);
    }
  }
  for (const name of NUMBER_OPTIONS) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
      refuse(name, 'a non-negative integer', value);
    }
  }
  if (options.mode !== undefined && options.mode !== 'object' && options.mode !== 'bytes') {
    refuse('mode', '"object" or "bytes"', options.mode);
  }
  if (options.policy !== undefined && typeof options.policy !== 'string') {
    refuse('policy', 'a string', options.policy);
  }
  if (options.backend !== undefined && options.backend !== 'native' && options.backend !== 'wasm') {
    refuse('backend', '"native" or "wasm"', options.backend);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    refuse('name', 'a non-empty string', options.name);
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    refuse('clock', 'a function returning epoch milliseconds', options.clock);
  }
  const serializer = options.serializer;
  if (
    serializer !== undefined &&
    (typeof serializer !== 'object' ||
      serializer === null ||
      typeof serializer.serialize !== 'function' ||
      typeof serializer.deserialize !== 'function')
  ) {
    refuse('serializer', 'an object with serialize and deserialize functions', serializer);
  }
  for (const name of ['defaultTtl', 'defaultGrace'] as const) {
    const value = options[name];
    if (value !== undefined) checkDurationType(name, value);
  }
  if (options.config !== undefined && (typeof options.config !== 'object' || options.config === null)) {
    refuse('config', 'an object (the policy configuration)', options.config);
  }
  const store = options.store as unknown;
  if (store !== undefined) {
    if (typeof store !== 'object' || store === null) refuse('store', 'an object { type: "memory" | "file", ... }', store);
    if ((store as { type?: unknown }).type === 'file' && (options.mode ?? 'object') !== 'bytes') {
      // Object-mode values live on the JS heap: a reopened file store would hold keys without them.
      throw new TickcacheError('invalid_option', 'a file store keeps values across restarts: it needs mode "bytes"');
    }
  }
  const document: Record<string, unknown> = {};
  for (const name of CORE_OPTION_NAMES) {
    if (options[name] !== undefined) document[name] = options[name];
  }
  return JSON.stringify(document);
}

function checkDurationType(what: string, value: unknown): void {
  if (typeof value === 'string') return;
  // Infinity is refused too: "never" says it on purpose, Infinity is usually an arithmetic slip.
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TickcacheError(
      'invalid_ttl',
      `${what} must be a finite, non-negative number of milliseconds or a duration string ` +
        `("5m", "never"), got ${describe(value)}`,
    );
  }
}

/** Turns durations into milliseconds the way the core does, for one backend. */
export class DurationReader {
  private readonly memo = new Map<string, number>();

  constructor(private readonly backend: Backend) {}

  /** NaN for "absent" (the core's rules and defaults decide); Infinity for never. */
  toMs(what: 'ttl' | 'grace', value: Duration | undefined): number {
    if (value === undefined) return NaN;
    if (typeof value === 'number') {
      checkDurationType(what, value);
      return value;
    }
    if (typeof value !== 'string') checkDurationType(what, value);
    let ms = this.memo.get(value);
    if (ms === undefined) {
      try {
        ms = this.backend.parseDuration(value);
      } catch (error) {
        const message = messageOf(error);
        throw new TickcacheError('invalid_ttl', `${what}: ${message}`, { cause: error });
      }
      if (ms === Infinity && what === 'grace') {
        throw new TickcacheError('invalid_ttl', 'grace cannot be "never"');
      }
      if (this.memo.size >= DURATION_MEMO_LIMIT) this.memo.clear();
      this.memo.set(value, ms);
    }
    return ms;
  }
}

/** Checks a tags argument: absent, or an array of strings. */
export function checkTags(tags: unknown): readonly string[] | null {
  if (tags === undefined || tags === null) return null;
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) {
    throw new TickcacheError('invalid_tags', `tags must be an array of strings, got ${describe(tags)}`);
  }
  return tags as readonly string[];
}
