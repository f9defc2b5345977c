// js/src/l2/errors.ts: the errors an L2 tier (a shared store such as Redis) fails with.
//
// Invariants: an L2Error always means "the store did not do it" (it was slow, away, or said no),
// never "the caller passed something wrong": bad arguments throw a TickcacheError with the
// existing input codes (invalid_key, invalid_tags, value_too_large, ...) before any I/O. So a
// circuit breaker in front of an adapter can count `instanceof L2Error` and nothing else, and
// switch on `code` to tell a slow store from a missing one. It is a TickcacheError, so callers
// that catch those see its code (one of ../errors.ts ERROR_CODES) too.

import { TickcacheError } from '../errors.js';

export const L2_ERROR_CODES = [
  'l2_timeout', // no answer within the adapter's timeout (the request may still land later)
  'l2_unavailable', // not connected: refused, reset, reconnecting, cluster down or failing over
  'l2_error', // the store answered with an error (out of memory, a script error, wrong type)
] as const;

export type L2ErrorCode = (typeof L2_ERROR_CODES)[number];

export class L2Error extends TickcacheError {
  declare readonly code: L2ErrorCode;
  /** What the adapter was doing ("get", "set", "invalidateTags", ...). */
  readonly operation: string;

  constructor(code: L2ErrorCode, operation: string, message: string, options?: { cause?: unknown }) {
    super(code, `${operation}: ${message}`, options);
    this.name = 'L2Error';
    this.operation = operation;
  }
}

export function isL2Error(error: unknown): error is L2Error {
  return error instanceof L2Error;
}
