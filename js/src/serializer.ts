// js/src/serializer.ts: how bytes mode turns values into the bytes the core stores, and back.
//
// Every stored value starts with one tag byte, so bytes given by the caller (Buffer, Uint8Array)
// come back as bytes and everything else goes through the serializer (JSON by default):
//   RAW_BYTES  the caller's bytes, verbatim
//   SERIALIZED the serializer's output
// Invariants: encoding never loses data silently -- a value JSON would drop or alter (a
// function, a symbol, a BigInt, a non-finite number, a cycle) is refused with code
// `invalid_value` before the cache is touched; encoded bytes live in one reused scratch buffer,
// valid only until the next encode (the host copies them during the set call).

import { TickcacheError } from './errors.js';
import type { Serializer } from './types.js';

const RAW_BYTES = 0;
const SERIALIZED = 1;
const MIN_SCRATCH_BYTES = 4096;
// Beyond this, reserving 3 bytes per UTF-16 unit would grow the scratch buffer for nothing.
const LARGE_TEXT_UNITS = 1 << 20;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

function refuseLossyJson(_key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'function':
    case 'symbol':
    case 'undefined':
      // undefined inside an object is dropped by JSON as a missing field, which reads back the
      // same; at the top level or in an array it would not, so refuse it everywhere.
      throw new TickcacheError('invalid_value', `a ${typeof value} cannot be stored as JSON`);
    case 'bigint':
      throw new TickcacheError('invalid_value', 'a BigInt cannot be stored as JSON');
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TickcacheError('invalid_value', `${String(value)} cannot be stored as JSON`);
      }
      return value;
    default:
      return value;
  }
}

/** JSON, strict: refuses what JSON.stringify would silently drop or change. */
export const jsonSerializer: Serializer = {
  serialize(value: unknown): Uint8Array {
    return textEncoder.encode(stringifyStrict(value));
  },
  deserialize(bytes: Uint8Array): unknown {
    return JSON.parse(textDecoder.decode(bytes)) as unknown;
  },
};

function stringifyStrict(value: unknown): string {
  try {
    return JSON.stringify(value, refuseLossyJson);
  } catch (error) {
    if (error instanceof TickcacheError) throw error;
    // A cycle (TypeError) or a throwing toJSON.
    throw new TickcacheError('invalid_value', `value cannot be stored as JSON: ${String(error)}`, {
      cause: error,
    });
  }
}

export class ValueCodec {
  private scratch = new Uint8Array(MIN_SCRATCH_BYTES);

  constructor(private readonly serializer: Serializer | undefined) {}

  /** The stored form of `value`: a view of the scratch buffer, valid until the next encode. */
  encode(value: unknown): Uint8Array {
    if (value instanceof Uint8Array) return this.tagged(RAW_BYTES, value);
    if (value === undefined) {
      throw new TickcacheError('invalid_value', 'undefined is not a value (delete the key instead)');
    }
    if (this.serializer === undefined) {
      // Encode straight into the scratch buffer: no intermediate Uint8Array per set.
      const text = stringifyStrict(value);
      if (text.length > LARGE_TEXT_UNITS) return this.tagged(SERIALIZED, textEncoder.encode(text));
      const view = this.reserve(1 + text.length * 3);
      view[0] = SERIALIZED;
      const { written } = textEncoder.encodeInto(text, view.subarray(1));
      return view.subarray(0, 1 + written);
    }
    let bytes: unknown;
    try {
      bytes = this.serializer.serialize(value);
    } catch (error) {
      throw new TickcacheError('invalid_value', `the serializer refused the value: ${String(error)}`, {
        cause: error,
      });
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new TickcacheError('invalid_value', 'the serializer must return a Uint8Array');
    }
    return this.tagged(SERIALIZED, bytes);
  }

  decode(stored: Uint8Array): unknown {
    const payload = stored.subarray(1);
    if (stored[0] === RAW_BYTES) return payload;
    if (stored[0] !== SERIALIZED) {
      throw new TickcacheError('internal', `stored value has an unknown tag ${String(stored[0])}`);
    }
    return (this.serializer ?? jsonSerializer).deserialize(payload);
  }

  private tagged(tag: number, bytes: Uint8Array): Uint8Array {
    const view = this.reserve(1 + bytes.length);
    view[0] = tag;
    view.set(bytes, 1);
    return view.subarray(0, 1 + bytes.length);
  }

  private reserve(bytes: number): Uint8Array {
    if (bytes > this.scratch.length) {
      this.scratch = new Uint8Array(Math.max(bytes, this.scratch.length * 2));
    }
    return this.scratch;
  }
}
