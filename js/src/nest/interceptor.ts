// js/src/nest/interceptor.ts: TickCacheInterceptor, the HTTP cache of controllers: GET (and
// HEAD) responses cached in the TieredCache, with concurrent misses coalesced into one handler
// call, `ETag` from the value's version, `Cache-Control` from its remaining time, 304 for a
// matching `If-None-Match`, and `X-Cache: HIT | STALE | MISS`. @CacheRoute sets a route's key,
// TTL, grace and tags; @NoCache excludes a route or a controller.
//
// Invariants: the handler runs at most once per key at a time in this process (the waiting
// requests share the TieredCache's in-flight load), whatever the number of requests; the ETag
// changes exactly when the value's bytes change (version: a hash of them); a 304 carries the
// same ETag and Cache-Control as a 200 would; other methods pass through untouched; a handler
// error reaches every request that waited for it and is not cached.

import { Inject, Injectable, Optional, SetMetadata } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { lastValueFrom, of } from 'rxjs';
import type { Observable } from 'rxjs';

import type { GetOrSetOptions, TieredCache } from '../tiered/tiered-cache.js';
import type { RequestLike, RequestTemplate } from './key-template.js';
import { compileRequestTemplate, requestUrlKey } from './key-template.js';
import { keyUsageOf, outcomeOf } from './key-usage.js';
import { TICKCACHE } from './tokens.js';

export const CACHE_ROUTE_METADATA = 'tickcache:route';
// Marks a request a TickCacheInterceptor already handles: bound twice (globally and on the
// controller), the inner one would wait for the outer one's load of the same key forever.
const HANDLED = Symbol('tickcache:handled');

export interface CacheRouteOptions extends Omit<GetOrSetOptions, 'tags'> {
  /**
   * 'price:latest:{symbol}' ({name}: route parameter, else query parameter), or a function of
   * the request. Default: the path and the sorted query.
   */
  key?: RequestTemplate;
  /** Tag templates over the request ('symbol:{symbol}'). */
  tags?: readonly string[];
  /** Adds `public` or `private` to Cache-Control. Default: neither. */
  visibility?: 'public' | 'private';
}

/** Per-route options of TickCacheInterceptor (on a handler, or on a controller for all its routes). */
export function CacheRoute(options: CacheRouteOptions = {}): MethodDecorator & ClassDecorator {
  return SetMetadata(CACHE_ROUTE_METADATA, compileRoute(options));
}

/** Excludes a route or a controller from TickCacheInterceptor. */
export function NoCache(): MethodDecorator & ClassDecorator {
  return SetMetadata(CACHE_ROUTE_METADATA, false);
}

interface CompiledRoute {
  keyOf: (request: RequestLike) => string;
  tagsOf: (request: RequestLike) => string[];
  options: Omit<GetOrSetOptions, 'tags'>;
  visibility: 'public' | 'private' | undefined;
}

function compileRoute(route: CacheRouteOptions): CompiledRoute {
  const { key, tags = [], visibility, ...options } = route;
  const keyOf = key === undefined ? requestUrlKey : compileRequestTemplate(key, '@CacheRoute key');
  const tagRenderers = tags.map((tag) => compileRequestTemplate(tag, '@CacheRoute tags'));
  return { keyOf, tagsOf: (request) => tagRenderers.map((render) => render(request)), options, visibility };
}

const DEFAULT_ROUTE = compileRoute({});
// Cache-Control max-age for a value that never expires (one year, the customary ceiling).
const MAX_AGE_CEILING_S = 31_536_000;

interface ResponseLike {
  setHeader?: (name: string, value: string) => unknown;
  header?: (name: string, value: string) => unknown;
  status?: (code: number) => unknown;
  code?: (code: number) => unknown;
}

/** ETag of a version: a strong validator (the version is a hash of the value's bytes). */
export function etagOf(version: number): string {
  return `"${version.toString(36)}"`;
}

/** Does `If-None-Match` name `etag`? (Weak comparison, as RFC 9110 asks for If-None-Match.) */
export function ifNoneMatchHits(header: unknown, etag: string): boolean {
  if (typeof header !== 'string' || header === '') return false;
  if (header.trim() === '*') return true;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  const wanted = bare(etag);
  return header.split(',').some((tag) => bare(tag) === wanted);
}

function seconds(ms: number): number {
  return Number.isFinite(ms) ? Math.max(0, Math.floor(ms / 1000)) : MAX_AGE_CEILING_S;
}

@Injectable()
export class TickCacheInterceptor implements NestInterceptor {
  constructor(
    @Inject(TICKCACHE) private readonly cache: TieredCache,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const route = this.reflector.getAllAndOverride<CompiledRoute | false | undefined>(CACHE_ROUTE_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (route === false) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<RequestLike & { [HANDLED]?: true }>();
    const response = http.getResponse<ResponseLike>();
    const method = (request.method ?? 'GET').toUpperCase();
    if ((method !== 'GET' && method !== 'HEAD') || request[HANDLED] === true) return next.handle();
    request[HANDLED] = true;

    const compiled = route ?? DEFAULT_ROUTE;
    const key = compiled.keyOf(request);
    const tags = compiled.tagsOf(request);
    const got = await this.cache.getOrSetStored(key, () => lastValueFrom(next.handle()), {
      ...compiled.options,
      ...(tags.length > 0 ? { tags } : {}),
    });
    keyUsageOf(this.cache).record(key, outcomeOf(got.source));

    const cached = this.cache.enabled && got.version !== 0;
    this.setHeader(response, 'X-Cache', got.source === 'loader' ? 'MISS' : got.source === 'l1-stale' ? 'STALE' : 'HIT');
    if (!cached) {
      this.setHeader(response, 'Cache-Control', 'no-cache');
      return of(got.value);
    }
    const etag = etagOf(got.version);
    this.setHeader(response, 'ETag', etag);
    this.setHeader(response, 'Cache-Control', this.cacheControl(key, got.source === 'l1-stale', got.ttlMs, compiled.visibility));
    if (ifNoneMatchHits(request.headers?.['if-none-match'], etag)) {
      // Express turns the reply into a bodiless 304 itself once it sees the matching ETag
      // (req.fresh), after Nest reapplies the route's status; setting it here covers adapters
      // that honour the status they are given.
      this.setStatus(response, 304);
      return of(undefined);
    }
    return of(got.value);
  }

  /** max-age: the fresh time left; stale-while-revalidate: the grace after it. */
  private cacheControl(key: string, stale: boolean, ttlMs: number, visibility: 'public' | 'private' | undefined): string {
    const entry = this.cache.l1.peek(key);
    let maxAge: number;
    let swr: number;
    if (entry !== undefined) {
      maxAge = stale ? 0 : seconds(entry.ttl);
      swr = stale ? seconds(entry.staleTtl) : Number.isFinite(entry.staleTtl) ? seconds(entry.staleTtl - entry.ttl) : 0;
    } else {
      // L1 did not keep it (admission): the time the value was stored or read with.
      maxAge = stale ? 0 : ttlMs > 0 ? seconds(ttlMs) : 0;
      swr = 0;
    }
    const parts = [...(visibility !== undefined ? [visibility] : []), `max-age=${maxAge}`];
    if (swr > 0) parts.push(`stale-while-revalidate=${swr}`);
    return parts.join(', ');
  }

  private setHeader(response: ResponseLike, name: string, value: string): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter !== undefined) adapter.setHeader(response, name, value);
    else if (typeof response.setHeader === 'function') response.setHeader(name, value);
    else response.header?.(name, value);
  }

  private setStatus(response: ResponseLike, code: number): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter !== undefined) adapter.status(response, code);
    else if (typeof response.status === 'function') response.status(code);
    else response.code?.(code);
  }
}
