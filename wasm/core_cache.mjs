// wasm/core_cache.mjs: the JavaScript half of the wasm CoreCache (bindings/PROTOCOL.md):
// loads tickcache_wasm.cjs (built beside this file) and turns JS arguments into the
// extern "C" calls of wasm/exports.cc.
//
//   const wasm = await loadTickcacheWasm();           // once per realm
//   const core = wasm.createCoreCache('{"maxEntries":1000}', { trackRemovals: true });
//   core.set('k', bytes, NaN, NaN, null, Date.now()); core.get('k', Date.now(), out);
//   core.add('lock', bytes, 30000, 0, null, Date.now());  // true: written; false: held
//   wasm.parseDuration('5m');                         // 300000
//
// Invariants:
//   - Marshalling only: the core validates and decides; this file checks JS types (wrong
//     type: code "invalid_argument") and copies bytes.
//   - Arguments travel through one scratch buffer in wasm memory, malloc'ed once per module
//     and grown (never shrunk) when an argument does not fit; strings are written into it
//     with TextEncoder.encodeInto, so a call allocates nothing on the JS heap but its result.
//   - Memory may grow during any call, which detaches every view on the old buffer: views
//     are re-derived from Module.HEAPU8 whenever they read as empty (detached).
//   - Values returned are copies (Uint8Array), never views into wasm memory. Small ones
//     (<= 4 KiB) are views into a shared 8 KiB ArrayBuffer, as Node's Buffer.allocUnsafe
//     pools them: V8 allocates a separate backing store for every typed array over 64
//     bytes, which made a 100-byte get 6x slower (312 ns vs 48 ns a copy, measured). So a
//     value's byteOffset may be nonzero and its .buffer may hold other values' bytes.
//   - A failed call throws an Error with `code` (the core's ErrorCodeName, "closed", or
//     "invalid_argument") and changes nothing.
//   - The same file runs in Node and in browsers, with no Node built-in anywhere: the factory
//     is built for web and worker only (wasm/CMakeLists.txt), which Node runs as well (atob
//     and crypto.getRandomValues are globals there), and it is loaded with a plain dynamic
//     import that Node and bundlers both resolve. A page without a bundler loads the factory
//     with a <script> tag (globalThis.createTickcacheModule) or passes `factory` itself.

const STATE_MISS = 0;
const INITIAL_SCRATCH_BYTES = 64 * 1024;
const POOL_BYTES = 8 * 1024;
const POOLED_VALUE_MAX_BYTES = POOL_BYTES / 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function codedError(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

function typeError(what, expected, got) {
  const shown = got === null ? 'null' : typeof got;
  return codedError('invalid_argument', `${what} must be ${expected}, got ${shown}`);
}

function checkString(what, value) {
  if (typeof value !== 'string') throw typeError(what, 'a string', value);
}

function checkNumber(what, value) {
  if (typeof value !== 'number') throw typeError(what, 'a number', value);
}

// A whole number in [0, 2^53): the counts touch() takes.
function checkCount(what, value) {
  checkNumber(what, value);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw codedError('invalid_argument', `${what} must be a whole number >= 0, got ${value}`);
  }
}

function checkTypedArray(what, value, type, minLength, expected) {
  if (!(value instanceof type) || value.length < minLength) {
    throw typeError(what, expected, value);
  }
}

const HOST_OPTION_FIELDS = ['trackRemovals', 'name'];

// createCoreCache's second argument, checked as the native constructor checks it; returns
// whether to track removals. A name is refused after the type checks: see PROTOCOL.md.
function readHostOptions(hostOptions) {
  if (hostOptions === undefined) return false;
  if (typeof hostOptions !== 'object' || hostOptions === null || Array.isArray(hostOptions)) {
    throw typeError('hostOptions', 'an object', hostOptions);
  }
  for (const field of Object.keys(hostOptions)) {
    if (!HOST_OPTION_FIELDS.includes(field)) {
      throw codedError('invalid_argument',
                       `hostOptions.${field} is not a host option (trackRemovals, name)`);
    }
  }
  const { trackRemovals, name } = hostOptions;
  if (trackRemovals !== undefined && typeof trackRemovals !== 'boolean') {
    throw typeError('hostOptions.trackRemovals', 'a boolean', trackRemovals);
  }
  if (name !== undefined) {
    checkString('hostOptions.name', name);
    if (name === '') throw codedError('invalid_argument', 'hostOptions.name must not be empty');
    if (trackRemovals === true) {
      throw codedError('invalid_argument',
                       `hostOptions.trackRemovals cannot be combined with name "${name}": ` +
                       'removal notices are drained by one JS realm, a named cache is shared');
    }
    throw codedError('unsupported',
                     `named caches are native only (name "${name}"): a wasm module's memory ` +
                     'belongs to one JS realm, so no other thread or worker could open it');
  }
  return trackRemovals === true;
}

async function loadFactory() {
  if (typeof globalThis.createTickcacheModule === 'function') {
    return globalThis.createTickcacheModule;  // loaded with a <script> tag
  }
  // A literal specifier, so bundlers include the factory in the bundle.
  const loaded = await import('./tickcache_wasm.cjs');
  return loaded.default ?? loaded.createTickcacheModule ?? loaded;
}

// One instantiated module and its argument buffers; every CoreCache of a module shares them
// (calls are synchronous, so they never overlap).
class WasmHost {
  constructor(module) {
    this.module = module;
    this.scratchPtr = 0;
    this.scratchBytes = 0;
    this.scratchView = new Uint8Array(0);
    this.reserve(INITIAL_SCRATCH_BYTES);
    // get/peek's [state, fresh, stale] and set's [ref, freshUntil, staleUntil, pending].
    this.timesPtr = this.malloc(4 * Float64Array.BYTES_PER_ELEMENT);  // malloc aligns to 8
    this.pool = new ArrayBuffer(POOL_BYTES);
    this.poolUsed = 0;
  }

  malloc(bytes) {
    const ptr = this.module._malloc(bytes);
    if (ptr === 0) {
      throw codedError('out_of_memory', `wasm memory cannot grow by ${bytes} bytes`);
    }
    return ptr;
  }

  // A view of the scratch buffer with room for at least `bytes` bytes.
  reserve(bytes) {
    if (bytes > this.scratchBytes) {
      const size = Math.max(bytes, this.scratchBytes * 2, INITIAL_SCRATCH_BYTES);
      const ptr = this.malloc(size);  // before free: a failure keeps the old buffer
      if (this.scratchPtr !== 0) this.module._free(this.scratchPtr);
      this.scratchPtr = ptr;
      this.scratchBytes = size;
      this.scratchView = this.module.HEAPU8.subarray(ptr, ptr + size);
    } else if (this.scratchView.byteLength === 0) {
      // Memory grew since the view was taken: its buffer is detached.
      this.scratchView = this.module.HEAPU8.subarray(
        this.scratchPtr, this.scratchPtr + this.scratchBytes);
    }
    return this.scratchView;
  }

  // Writes `text` as UTF-8 at `offset` of the scratch buffer; returns the bytes written.
  // The caller has reserved 3 bytes per UTF-16 unit (the most UTF-8 needs for one).
  writeString(view, offset, text) {
    return encoder.encodeInto(text, offset === 0 ? view : view.subarray(offset)).written;
  }

  // A copy of wasm memory [ptr, ptr + length), small ones carved from the pool.
  readBytes(ptr, length) {
    const heap = this.module.HEAPU8;
    if (length > POOLED_VALUE_MAX_BYTES) return heap.slice(ptr, ptr + length);
    if (this.poolUsed + length > POOL_BYTES) {
      this.pool = new ArrayBuffer(POOL_BYTES);
      this.poolUsed = 0;
    }
    const copy = new Uint8Array(this.pool, this.poolUsed, length);
    copy.set(heap.subarray(ptr, ptr + length));
    this.poolUsed = (this.poolUsed + length + 7) & ~7;  // 8-aligned, for Float64Array views
    return copy;
  }

  readString(ptr, length) {
    return decoder.decode(this.module.HEAPU8.subarray(ptr, ptr + length));
  }

  readCString(ptr) {
    const heap = this.module.HEAPU8;
    let end = ptr;
    while (heap[end] !== 0) end++;
    return decoder.decode(heap.subarray(ptr, end));
  }

  lastError() {
    const m = this.module;
    const code = this.readCString(m._tc_last_error_code());
    const message = this.readString(m._tc_last_error_message(), m._tc_last_error_message_len());
    return codedError(code, message);
  }

  result() {
    return this.readBytes(this.module._tc_result_ptr(), this.module._tc_result_len());
  }

  resultString() {
    return this.readString(this.module._tc_result_ptr(), this.module._tc_result_len());
  }

  // Copies `count` doubles from timesPtr into out.
  copyTimes(out, count = 3) {
    const at = this.timesPtr >>> 3;
    const heap = this.module.HEAPF64;
    for (let i = 0; i < count; i++) out[i] = heap[at + i];
  }

  createCoreCache(optionsJson, hostOptions) {
    checkString('optionsJson', optionsJson);
    const trackRemovals = readHostOptions(hostOptions);
    const view = this.reserve(optionsJson.length * 3);
    const length = this.writeString(view, 0, optionsJson);
    const id = this.module._tc_create(this.scratchPtr, length, trackRemovals ? 1 : 0);
    if (id < 0) throw this.lastError();
    return new CoreCache(this, id);
  }

  parseDuration(text) {
    checkString('text', text);
    const view = this.reserve(text.length * 3);
    const length = this.writeString(view, 0, text);
    if (this.module._tc_parse_duration(this.scratchPtr, length, this.timesPtr) < 0) {
      throw this.lastError();
    }
    return this.module.HEAPF64[this.timesPtr >>> 3];
  }
}

// PROTOCOL.md's CoreCache over one cache id of one module.
class CoreCache {
  #host;
  #id;

  constructor(host, id) {
    this.#host = host;
    this.#id = id;
  }

  // Shared by get and peek: `call` is _tc_get or _tc_peek.
  #lookup(call, key, now, out) {
    checkString('key', key);
    checkNumber('now', now);
    if (!(out instanceof Float64Array) || out.length < 3) {
      throw typeError('out', 'a Float64Array(3)', out);
    }
    const host = this.#host;
    const view = host.reserve(key.length * 3);
    const keyLength = host.writeString(view, 0, key);
    const state = call(this.#id, host.scratchPtr, keyLength, now, host.timesPtr);
    if (state < 0) throw host.lastError();
    host.copyTimes(out);
    return state === STATE_MISS ? null : host.result();
  }

  get(key, now, out) {
    return this.#lookup(this.#host.module._tc_get, key, now, out);
  }

  peek(key, now, out) {
    return this.#lookup(this.#host.module._tc_peek, key, now, out);
  }

  has(key, now) {
    checkString('key', key);
    checkNumber('now', now);
    const host = this.#host;
    const view = host.reserve(key.length * 3);
    const keyLength = host.writeString(view, 0, key);
    const state = host.module._tc_has(this.#id, host.scratchPtr, keyLength, now);
    if (state < 0) throw host.lastError();
    return state;
  }

  // With `out` (a Float64Array of 4 or more), fills [ref, freshUntilMs, staleUntilMs,
  // pendingRemovals]: absolute ms, +Infinity for never.
  set(key, value, ttlMs, graceMs, tags, now, out = undefined) {
    this.#write(this.#host.module._tc_set, key, value, ttlMs, graceMs, tags, now, out);
    if (out !== undefined) this.#host.copyTimes(out, 4);
  }

  // Cache::Add: true when it wrote (then `out`, if given, is filled as set fills it), false when
  // a live entry kept the key (`out` untouched).
  add(key, value, ttlMs, graceMs, tags, now, out = undefined) {
    const wrote =
      this.#write(this.#host.module._tc_add, key, value, ttlMs, graceMs, tags, now, out) === 1;
    if (wrote && out !== undefined) this.#host.copyTimes(out, 4);
    return wrote;
  }

  // Shared by set and add: `call` is _tc_set or _tc_add; returns what it returned (0, or 1 for
  // an add that wrote), the times for `out` left at host.timesPtr.
  #write(call, key, value, ttlMs, graceMs, tags, now, out) {
    checkString('key', key);
    if (!(value instanceof Uint8Array)) throw typeError('value', 'a Uint8Array', value);
    checkNumber('ttlMs', ttlMs);
    checkNumber('graceMs', graceMs);
    checkNumber('now', now);
    if (out !== undefined) {
      checkTypedArray('out', out, Float64Array, 4, 'a Float64Array of at least 4 elements');
    }
    let tagBytes = 0;
    if (tags != null) {
      if (!Array.isArray(tags)) throw typeError('tags', 'an array of strings or null', tags);
      for (let i = 0; i < tags.length; i++) {
        checkString(`tags[${i}]`, tags[i]);
        tagBytes += 4 + tags[i].length * 3;
      }
    }
    const host = this.#host;
    const view = host.reserve(key.length * 3 + value.length + tagBytes);
    const keyLength = host.writeString(view, 0, key);
    view.set(value, keyLength);
    const tagsAt = keyLength + value.length;
    let end = tagsAt;
    if (tags != null) {
      const lengths = new DataView(view.buffer, view.byteOffset, view.byteLength);
      for (const tag of tags) {
        const written = host.writeString(view, end + 4, tag);
        lengths.setUint32(end, written, true);
        end += 4 + written;
      }
    }
    const base = host.scratchPtr;
    const outPtr = out === undefined ? 0 : host.timesPtr;
    const rc = call(this.#id, base, keyLength, base + keyLength, value.length, ttlMs, graceMs,
                    base + tagsAt, end - tagsAt, now, outPtr);
    if (rc < 0) throw host.lastError();
    return rc;
  }

  delete(key) {
    checkString('key', key);
    const host = this.#host;
    const view = host.reserve(key.length * 3);
    const keyLength = host.writeString(view, 0, key);
    const rc = host.module._tc_delete(this.#id, host.scratchPtr, keyLength);
    if (rc < 0) throw host.lastError();
    return rc === 1;
  }

  // touch(refs, count, misses, hits?, staleHits?, missedKeys?): what a JS front answered
  // itself: hits it replays to the policy (the first `count` refs, the stale bit or'ed in for
  // stale answers), misses it replays with their keys (an array of strings, or null/undefined),
  // and misses and hits it only counts (beyond what its buffers kept). Refs and keys go in one
  // call: the refs, then the keys as [u32 length][UTF-8] records, both in the scratch buffer.
  touch(refs, count, misses, hits = 0, staleHits = 0, missedKeys = undefined) {
    checkTypedArray('refs', refs, Uint32Array, 0, 'a Uint32Array');
    checkCount('count', count);
    checkCount('misses', misses);
    checkCount('hits', hits);
    checkCount('staleHits', staleHits);
    if (count > refs.length) {
      throw codedError('invalid_argument',
                       `count ${count} is more than the ${refs.length} refs given`);
    }
    let keyBytes = 0;
    if (missedKeys != null) {
      if (!Array.isArray(missedKeys)) {
        throw typeError('missedKeys', 'an array of strings, null or undefined', missedKeys);
      }
      for (let i = 0; i < missedKeys.length; i++) {
        checkString(`missedKeys[${i}]`, missedKeys[i]);
        keyBytes += 4 + missedKeys[i].length * 3;
      }
    }
    const host = this.#host;
    const refBytes = count * Uint32Array.BYTES_PER_ELEMENT;
    const view = host.reserve(refBytes + keyBytes);
    // scratchPtr is malloc'ed, so 8-aligned; HEAPU32 is re-read after reserve may have grown
    // memory.
    if (count > 0) host.module.HEAPU32.set(refs.subarray(0, count), host.scratchPtr >>> 2);
    let end = refBytes;
    if (keyBytes > 0) {
      const lengths = new DataView(view.buffer, view.byteOffset, view.byteLength);
      for (const key of missedKeys) {
        const written = host.writeString(view, end + 4, key);
        lengths.setUint32(end, written, true);
        end += 4 + written;
      }
    }
    const base = host.scratchPtr;
    this.#count(host.module._tc_touch(this.#id, base, count, misses, hits, staleHits,
                                      base + refBytes, end - refBytes));
  }

  // drainRemovals(out): moves the oldest removal notices into out as [ref, cause, ...];
  // returns how many pairs (at most out.length / 2).
  drainRemovals(out) {
    checkTypedArray('out', out, Uint32Array, 0, 'a Uint32Array');
    const host = this.#host;
    const pending = this.#count(host.module._tc_pending_removals(this.#id));
    const room = Math.min(pending, Math.floor(out.length / 2));
    if (room === 0) return 0;
    host.reserve(room * 2 * Uint32Array.BYTES_PER_ELEMENT);
    const pairs = this.#count(host.module._tc_drain_removals(this.#id, host.scratchPtr, room));
    const at = host.scratchPtr >>> 2;
    out.set(host.module.HEAPU32.subarray(at, at + pairs * 2));
    return pairs;
  }

  pendingRemovals() {
    return this.#count(this.#host.module._tc_pending_removals(this.#id));
  }

  // Shared by the three invalidations: `call` takes (id, ptr, len) and returns a count.
  #invalidate(call, what, text) {
    checkString(what, text);
    const host = this.#host;
    const view = host.reserve(text.length * 3);
    const length = host.writeString(view, 0, text);
    const removed = call(this.#id, host.scratchPtr, length);
    if (removed < 0) throw host.lastError();
    return removed;
  }

  invalidateTag(tag) {
    return this.#invalidate(this.#host.module._tc_invalidate_tag, 'tag', tag);
  }

  invalidatePrefix(prefix) {
    return this.#invalidate(this.#host.module._tc_invalidate_prefix, 'prefix', prefix);
  }

  invalidatePattern(glob) {
    return this.#invalidate(this.#host.module._tc_invalidate_pattern, 'glob', glob);
  }

  // Calls that return a count or -1, given only the id (and `now` for maintenance).
  #count(result) {
    if (result < 0) throw this.#host.lastError();
    return result;
  }

  clear() {
    return this.#count(this.#host.module._tc_clear(this.#id));
  }

  maintenance(now) {
    checkNumber('now', now);
    return this.#count(this.#host.module._tc_maintenance(this.#id, now));
  }

  entries() {
    return this.#count(this.#host.module._tc_entries(this.#id));
  }

  bytes() {
    return this.#count(this.#host.module._tc_bytes(this.#id));
  }

  statsJson() {
    this.#count(this.#host.module._tc_stats_json(this.#id));
    return this.#host.resultString();
  }

  close() {
    this.#count(this.#host.module._tc_close(this.#id));
  }
}

let defaultHost = null;  // set once the default module has loaded
let defaultLoading = null;  // its promise, so concurrent first calls instantiate once

async function instantiate(options) {
  const { factory, ...overrides } = options;
  const create = factory ?? (await loadFactory());
  const module = await create(overrides);
  const host = new WasmHost(module);
  return {
    module,
    createCoreCache: (optionsJson, hostOptions) => host.createCoreCache(optionsJson, hostOptions),
    parseDuration: (text) => host.parseDuration(text),
  };
}

// Instantiates the module. Without arguments, once per realm (later calls share it); with
// `factory` (the createTickcacheModule function, for pages without a bundler) or Emscripten
// Module overrides, a new instance each time. Resolves to
// { createCoreCache, parseDuration, module }.
export function loadTickcacheWasm(options = undefined) {
  if (options !== undefined) return instantiate(options);
  if (defaultLoading === null) {
    defaultLoading = instantiate({}).then(
      (api) => (defaultHost = api),
      (error) => {
        defaultLoading = null;  // let a later call try again
        throw error;
      });
  }
  return defaultLoading;
}

// PROTOCOL.md's constructor, synchronous like the native one: needs the module loaded first
// (`await loadTickcacheWasm()`), since instantiating WebAssembly is asynchronous in browsers.
export function createCoreCache(optionsJson, hostOptions = undefined) {
  if (defaultHost === null) {
    throw codedError('not_loaded', 'call and await loadTickcacheWasm() before createCoreCache');
  }
  return defaultHost.createCoreCache(optionsJson, hostOptions);
}

// PROTOCOL.md's parseDuration, on the default module (loaded first, like createCoreCache).
export function parseDuration(text) {
  if (defaultHost === null) {
    throw codedError('not_loaded', 'call and await loadTickcacheWasm() before parseDuration');
  }
  return defaultHost.parseDuration(text);
}
