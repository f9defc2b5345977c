// js/src/nest/decorators.ts: @Cacheable and @CacheEvict for the methods of Nest providers.
//
// The decorated method is replaced by one that goes through the TieredCache of the module the
// class is provided in (property injection of TICKCACHE on a hidden symbol key, so the class's
// constructor stays as the author wrote it).
//
// Invariants: a decorated method always returns a Promise. Keys, tags and patterns are rendered
// from the arguments before the method runs, so a bad argument (code invalid_argument) leaves
// both the cache and the method's side effects untouched. Route metadata put on the method by
// other decorators (@Get, ...) is kept whichever order they are applied in. @CacheEvict
// invalidates only after the method succeeded (unless beforeInvocation), so a failed write does
// not throw away good cached values.

import 'reflect-metadata';

import { Inject } from '@nestjs/common';

import { TickcacheError } from '../index.js';
import type { GetOrSetOptions, TieredCache } from '../tiered/tiered-cache.js';
import type { ArgsTemplate } from './key-template.js';
import { compileArgsTemplate, stableStringify } from './key-template.js';
import { keyUsageOf, outcomeOf } from './key-usage.js';
import { TICKCACHE } from './tokens.js';

const CACHE_PROPERTY = Symbol('tickcache:cache');
const INJECTED = Symbol('tickcache:injected');

export interface CacheableOptions<A extends unknown[] = any[]> extends Omit<GetOrSetOptions, 'tags'> {
  /** 'price:{0}', 'feed:{0.userId}:{1}', or a function of the arguments. Default: Class.method:<arguments as stable JSON>. */
  key?: ArgsTemplate<A>;
  /** Tag templates over the arguments ('symbol:{0}'), or a function returning the tags. */
  tags?: readonly string[] | ((...args: A) => readonly string[]);
}

export interface CacheEvictOptions<A extends unknown[] = any[]> {
  /** Keys to delete: templates over the arguments, or a function returning them. */
  keys?: ArgsTemplate<A> | readonly string[] | ((...args: A) => readonly string[]);
  tags?: readonly string[] | ((...args: A) => readonly string[]);
  /** Glob patterns ('*:{0}'): argument values are escaped, the template's own * and ? are globs. */
  patterns?: readonly string[];
  prefixes?: readonly string[];
  /** An event of the module's event map (TickCacheModule.forRoot({ events })). */
  event?: string;
  /** The event's data. Default: the first argument when it is a plain object, else {}. */
  data?: (...args: A) => Record<string, unknown>;
  /** Clear everything (every tier, every instance). */
  all?: boolean;
  /** Invalidate before the method runs (also when it then fails). Default false: after it succeeded. */
  beforeInvocation?: boolean;
}

type AnyMethod = (...args: any[]) => unknown;

/** Has Nest inject the module's TieredCache into `CACHE_PROPERTY` of instances of the class. */
function injectCache(prototype: object): void {
  if (Object.prototype.hasOwnProperty.call(prototype, INJECTED)) return;
  Object.defineProperty(prototype, INJECTED, { value: true });
  Inject(TICKCACHE)(prototype, CACHE_PROPERTY);
}

function cacheOf(instance: unknown, where: string): TieredCache {
  const cache = (instance as Record<symbol, TieredCache | undefined> | null)?.[CACHE_PROPERTY];
  if (cache === undefined) {
    throw new TickcacheError(
      'invalid_option',
      `${where}: no TieredCache was injected; the class must be a Nest provider of a module ` +
        'that imports TickCacheModule (or make it isGlobal)',
    );
  }
  return cache;
}

/** Replaces the method, keeping the metadata other decorators put on the original function. */
function replaceMethod(descriptor: PropertyDescriptor, original: AnyMethod, replacement: AnyMethod): void {
  for (const metadataKey of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(metadataKey, Reflect.getOwnMetadata(metadataKey, original), replacement);
  }
  Object.defineProperty(replacement, 'name', { value: original.name });
  descriptor.value = replacement;
}

function methodOf(
  target: object,
  propertyKey: string | symbol,
  descriptor: PropertyDescriptor,
  decorator: string,
): { original: AnyMethod; where: string } {
  const where = `@${decorator} on ${(target as { constructor: { name: string } }).constructor.name}.${String(propertyKey)}`;
  if (typeof descriptor?.value !== 'function') {
    throw new TickcacheError('invalid_argument', `${where}: only methods can be decorated`);
  }
  return { original: descriptor.value as AnyMethod, where };
}

function compileList(
  list: readonly string[] | ((...args: any[]) => readonly string[]) | undefined,
  where: string,
  escape = false,
): (args: unknown[]) => string[] {
  if (list === undefined) return () => [];
  if (typeof list === 'function') {
    return (args) => {
      const out = list(...args);
      if (!Array.isArray(out) || !out.every((item) => typeof item === 'string')) {
        throw new TickcacheError('invalid_argument', `${where}: the function must return an array of strings`);
      }
      return [...out];
    };
  }
  if (!Array.isArray(list)) throw new TickcacheError('invalid_argument', `${where}: expected an array of templates`);
  const compiled = list.map((template) => compileArgsTemplate(template, where, escape));
  return (args) => compiled.map((render) => render(args));
}

/**
 * Caches the method's result under a key built from its arguments: the first call loads, the
 * others (concurrent ones included) get the cached value; see TieredCache.getOrSet.
 */
export function Cacheable<A extends unknown[] = any[]>(options: CacheableOptions<A> = {}): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const { original, where } = methodOf(target, propertyKey, descriptor, 'Cacheable');
    const { key, tags, ...getOrSetOptions } = options;
    const className = (target as { constructor: { name: string } }).constructor.name;
    const keyOf =
      key === undefined
        ? (args: unknown[]) => `${className}.${String(propertyKey)}:${stableStringify(args, where)}`
        : compileArgsTemplate(key as ArgsTemplate, `${where} key`);
    const tagsOf = compileList(tags as CacheEvictOptions['tags'], `${where} tags`);
    injectCache(target);
    replaceMethod(descriptor, original, async function cacheable(this: unknown, ...args: unknown[]) {
      const cache = cacheOf(this, where);
      const cacheKey = keyOf(args);
      const tagList = tagsOf(args);
      const got = await cache.getOrSetStored(cacheKey, () => original.apply(this, args), {
        ...getOrSetOptions,
        ...(tagList.length > 0 ? { tags: tagList } : {}),
      });
      keyUsageOf(cache).record(cacheKey, outcomeOf(got.source));
      return got.value;
    });
    return descriptor;
  };
}

/**
 * Invalidates after the method succeeded: keys, tags, patterns, prefixes, an event of the
 * module's event map, or everything.
 */
export function CacheEvict<A extends unknown[] = any[]>(options: CacheEvictOptions<A>): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const { original, where } = methodOf(target, propertyKey, descriptor, 'CacheEvict');
    if (typeof options !== 'object' || options === null) {
      throw new TickcacheError('invalid_argument', `${where}: options { keys, tags, patterns, prefixes, event, all }`);
    }
    const keysOf =
      typeof options.keys === 'string'
        ? ((render) => (args: unknown[]) => [render(args)])(compileArgsTemplate(options.keys, `${where} keys`))
        : compileList(options.keys as CacheEvictOptions['tags'], `${where} keys`);
    const tagsOf = compileList(options.tags as CacheEvictOptions['tags'], `${where} tags`);
    const patternsOf = compileList(options.patterns, `${where} patterns`, true);
    const prefixesOf = compileList(options.prefixes, `${where} prefixes`);
    const { event, data, all = false, beforeInvocation = false } = options;
    if (event !== undefined && (typeof event !== 'string' || event === '')) {
      throw new TickcacheError('invalid_argument', `${where}: event must be a non-empty string, got ${JSON.stringify(event)}`);
    }
    const dataOf = (args: unknown[]): Record<string, unknown> => {
      if (data !== undefined) return data(...(args as A));
      const first = args[0];
      return typeof first === 'object' && first !== null && !Array.isArray(first) ? (first as Record<string, unknown>) : {};
    };
    injectCache(target);
    replaceMethod(descriptor, original, async function cacheEvict(this: unknown, ...args: unknown[]) {
      const cache = cacheOf(this, where);
      // Rendered first: a bad argument stops here, before the method or the cache is touched.
      const plan = {
        keys: keysOf(args),
        tags: tagsOf(args),
        patterns: patternsOf(args),
        prefixes: prefixesOf(args),
        data: event === undefined ? {} : dataOf(args),
      };
      const evict = async (): Promise<void> => {
        if (all) {
          await cache.clear();
          return;
        }
        if (plan.keys.length > 0) await cache.delete(plan.keys);
        if (plan.tags.length > 0) await cache.invalidateTags(plan.tags);
        for (const pattern of plan.patterns) await cache.invalidatePattern(pattern);
        for (const prefix of plan.prefixes) await cache.invalidatePrefix(prefix);
        if (event !== undefined) await cache.emit(event, plan.data);
      };
      if (beforeInvocation) await evict();
      const result = await original.apply(this, args);
      if (!beforeInvocation) await evict();
      return result;
    });
    return descriptor;
  };
}
