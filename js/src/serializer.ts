// js/src/serializer.ts: how bytes mode turns values into the bytes the core stores, and back.
//
// Every stored value starts with one tag byte, so bytes given by the caller (Buffer, Uint8Array)
// come back as bytes and everything else goes through the serializer (JSON by default):
//   RAW_BYTES  the caller's bytes, verbatim
//   SERIALIZED the serializer's output
//   SHAPED     a plain object as JSON without its keys: [u16 LE shape id] + the JSON array of
//              its values. The keys live once per shape in this codec (a cache holding a
//              million quotes of one shape keeps their field names once, not a million times:
//              ~45 fewer bytes per quote). Only for a cache in one realm (the shape table is
//              JS memory): never for a named cache shared by worker_threads, nor for L2.
// Invariants: encoding never loses data silently -- a value JSON would drop or alter (a
// function, a symbol, a BigInt, a non-finite number, a cycle) is refused with code
// `invalid_value` before the cache is touched; encoded bytes live in one reused scratch buffer,
// valid only until the next encode (the host copies them during the set call).

import { TickcacheError } from './errors.js';
import type { Serializer } from './types.js';

const RAW_BYTES = 0;
const SERIALIZED = 1;
const SHAPED = 2;
const MAX_SHAPES = 4096; // beyond this many distinct key lists, plain JSON
const MIN_SHAPE_KEYS = 2; // one key saves too little to be worth a lookup
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

export interface CodecOptions {
  /** Keep the keys of plain objects once per shape (SHAPED above); JSON serializer only. */
  shapes?: boolean;
}

export class ValueCodec {
  private scratch = new Uint8Array(MIN_SCRATCH_BYTES);
  private readonly shapeIds: Map<string, number> | undefined;
  private readonly shapeKeys: string[][] = [];

  constructor(
    private readonly serializer: Serializer | undefined,
    options: CodecOptions = {},
  ) {
    this.shapeIds = options.shapes === true && serializer === undefined ? new Map() : undefined;
  }

  /** The stored form of `value`: a view of the scratch buffer, valid until the next encode. */
  encode(value: unknown): Uint8Array {
    if (value instanceof Uint8Array) return this.tagged(RAW_BYTES, value);
    if (value === undefined) {
      throw new TickcacheError('invalid_value', 'undefined is not a value (delete the key instead)');
    }
    if (this.serializer === undefined) {
      const shape = this.shapeIds === undefined ? undefined : this.shapeOf(value);
      if (shape !== undefined) {
        const [id, keys] = shape;
        const record = value as Record<string, unknown>;
        return this.textTagged(SHAPED, id, stringifyStrict(keys.map((key) => record[key])));
      }
      return this.textTagged(SERIALIZED, -1, stringifyStrict(value));
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

  /**
   * The shape id and key list of a plain object whose keys can be dropped from its JSON, or
   * undefined. Plain: no prototype but Object's (or none) and no toJSON, so JSON would write
   * exactly its own enumerable keys, in Object.keys order -- the order decode restores.
   */
  private shapeOf(value: unknown): [number, string[]] | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return undefined;
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
    const keys = Object.keys(value);
    if (keys.length < MIN_SHAPE_KEYS) return undefined;
    const signature = keys.join('\u0000');
    let id = this.shapeIds!.get(signature);
    if (id === undefined) {
      // "__proto__" would not come back as an own key by assignment; NUL would make two key
      // lists share a signature.
      if (this.shapeKeys.length >= MAX_SHAPES || keys.some((key) => key === '__proto__' || key.includes('\u0000'))) {
        return undefined;
      }
      id = this.shapeKeys.length;
      this.shapeKeys.push(keys);
      this.shapeIds!.set(signature, id);
    }
    return [id, this.shapeKeys[id]!];
  }

  // [tag][u16 shape id, SHAPED only][UTF-8 text], encoded straight into the scratch buffer.
  private textTagged(tag: number, shapeId: number, text: string): Uint8Array {
    const header = tag === SHAPED ? 3 : 1;
    if (text.length > LARGE_TEXT_UNITS) {
      const bytes = textEncoder.encode(text);
      const view = this.reserve(header + bytes.length);
      view.set(bytes, header);
      return this.header(view, tag, shapeId).subarray(0, header + bytes.length);
    }
    const view = this.reserve(header + text.length * 3);
    const { written } = textEncoder.encodeInto(text, view.subarray(header));
    return this.header(view, tag, shapeId).subarray(0, header + written);
  }

  private header(view: Uint8Array, tag: number, shapeId: number): Uint8Array {
    view[0] = tag;
    if (tag === SHAPED) {
      view[1] = shapeId & 0xff;
      view[2] = shapeId >>> 8;
    }
    return view;
  }

  decode(stored: Uint8Array): unknown {
    if (stored[0] === SHAPED) return this.decodeShaped(stored);
    const payload = stored.subarray(1);
    if (stored[0] === RAW_BYTES) return payload;
    if (stored[0] !== SERIALIZED) {
      throw new TickcacheError('internal', `stored value has an unknown tag ${String(stored[0])}`);
    }
    return (this.serializer ?? jsonSerializer).deserialize(payload);
  }

  private decodeShaped(stored: Uint8Array): unknown {
    const keys = this.shapeKeys[stored[1]! | (stored[2]! << 8)];
    if (keys === undefined) throw new TickcacheError('internal', 'stored value names a shape this cache never made');
    const values = JSON.parse(textDecoder.decode(stored.subarray(3))) as unknown[];
    const record: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) record[keys[i]!] = values[i];
    return record;
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
