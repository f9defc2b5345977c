// js/src/nest/util.ts: error helpers of the Nest integration that do not depend on class
// identity: a CommonJS bundle of 'tickcache/nest' may hold its own copy of the core's classes,
// so errors from the core are recognized by name and code, not by instanceof.

import type { ErrorCode } from '../errors.js';

/** The message of anything thrown. */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Is `error` a TickcacheError (from any copy of the core)? */
export function isTickcacheError(error: unknown): error is Error & { code: ErrorCode } {
  return error instanceof Error && error.name === 'TickcacheError' && typeof (error as { code?: unknown }).code === 'string';
}
