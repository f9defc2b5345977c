// js/src/errors.ts: the one error type tickcache throws, and its codes.
//
// Invariant: every error a caller can get from tickcache is a TickcacheError whose `code` is one
// of ERROR_CODES, so callers switch on `code`, never on message text. Errors from a host
// (bindings/, wasm/) carry the core's code and are rewrapped here, keeping their message.

export const ERROR_CODES = [
  'invalid_key', // the key is not a string
  'empty_key',
  'key_too_large',
  'value_too_large',
  'entry_too_large', // key + value + metadata exceed the byte bound
  'invalid_value', // object mode: undefined is not a value; bytes mode: not serializable
  'invalid_ttl', // NaN, negative, too long, or an unreadable duration string
  'invalid_tags',
  'invalid_pattern',
  'invalid_option', // an option of the wrong type or out of range
  'bad_config', // the core refused the options or the policy configuration
  'invalid_argument', // any other argument of the wrong type
  'closed', // the cache was closed
  'unsupported', // the backend cannot do this (e.g. a named cache on wasm)
  'backend_unavailable', // the requested backend cannot load here
  'name_taken',
  'not_found',
  'loader_timeout', // a loader took longer than its hard timeout
  'l2_timeout', // L2 did not answer in time (the request may still land)
  'l2_unavailable', // L2 is not reachable, or its circuit breaker is open
  'l2_error', // L2 answered with an error
  'store_full', // the store could not make room
  'corrupt_snapshot',
  'io_error',
  'out_of_memory',
  'internal', // a bug: please report it
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export class TickcacheError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TickcacheError';
    this.code = code;
  }
}

/** The message of anything thrown; errors from another realm (a host, a vm) are not `instanceof Error`. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Rewraps whatever a host threw as a TickcacheError (host codes map to ours one to one). */
export function fromHostError(error: unknown): TickcacheError {
  if (error instanceof TickcacheError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = messageOf(error);
  if (typeof code === 'string' && KNOWN_CODES.has(code)) {
    return new TickcacheError(code as ErrorCode, message, { cause: error });
  }
  return new TickcacheError('internal', message, { cause: error });
}
