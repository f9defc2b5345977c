// js/src/factory.ts: builds a Cache on a loaded backend. Shared by the Node entry (index.ts) and
// the browser entry (browser.ts), which differ only in how they find a backend.

import { BytesCache, ObjectCache } from './cache.js';
import type { Cache } from './cache.js';
import type { Backend } from './core-protocol.js';
import { TickcacheError, fromHostError } from './errors.js';
import { coreOptionsJson } from './options.js';
import type { BackendInfo, CacheOptions } from './types.js';

export function makeCache<V>(backend: Backend, options: CacheOptions, info: BackendInfo): Cache<V> {
  const json = coreOptionsJson(options);
  const mode = options.mode ?? 'object';
  if (options.name !== undefined && mode !== 'bytes') {
    throw new TickcacheError(
      'invalid_option',
      'a named cache is shared by worker_threads, so it needs mode "bytes" (objects live in one thread)',
    );
  }
  let core;
  try {
    core = backend.create(json, mode === 'object' ? { trackRemovals: true } : { name: options.name });
  } catch (error) {
    const wrapped = fromHostError(error);
    // The core judged the option values: to the caller these are options like any other.
    if (wrapped.code === 'bad_config' || wrapped.code === 'invalid_argument') {
      throw new TickcacheError('invalid_option', wrapped.message, { cause: error });
    }
    throw wrapped;
  }
  return mode === 'object'
    ? new ObjectCache<V>(core, backend, info, options)
    : new BytesCache<V>(core, backend, info, options);
}

export interface OpenOptions {
  serializer?: CacheOptions['serializer'];
  clock?: CacheOptions['clock'];
}

/** Another handle on a named cache (bytes mode) created by any thread of this process. */
export function openNamed<V>(backend: Backend, name: string, options: OpenOptions, info: BackendInfo): Cache<V> {
  if (typeof name !== 'string' || name === '') {
    throw new TickcacheError('invalid_argument', 'openCache takes the name the cache was created with');
  }
  coreOptionsJson(options); // the same checks as createCache for the options it shares
  let core;
  try {
    core = backend.open(name);
  } catch (error) {
    throw fromHostError(error);
  }
  return new BytesCache<V>(core, backend, info, options, /* shared= */ true);
}
