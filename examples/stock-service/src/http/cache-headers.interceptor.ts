// src/http/cache-headers.interceptor.ts: turns a handler's CachedAnswer into HTTP: the value as
// the body, `X-Cache: HIT | STALE | MISS`, a strong `ETag` from the value's version,
// `Cache-Control` from its fresh time left, and 304 Not Modified when If-None-Match names the
// current ETag (no body is serialized then).
//
// Invariants: the ETag changes exactly when the value's bytes change (tickcache versions are a
// hash of the bytes), so a client's revalidation is answered 304 across refreshes that brought
// nothing new; an answer without a version gets no ETag (Express's own weak one then applies).

import { Injectable } from '@nestjs/common';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import { map } from 'rxjs';
import type { Observable } from 'rxjs';

import type { CachedAnswer } from '../cache/market-cache.js';
import type { HttpRequest, HttpResponse } from './http-types.js';

export function etagOf(version: number): string {
  return `"${version.toString(36)}"`;
}

/** True when an If-None-Match header names `etag` (a list, weak forms and `*` included). */
export function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text.trim() === '*') return true;
  return text.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}

function isCachedAnswer(value: unknown): value is CachedAnswer<unknown> {
  return typeof value === 'object' && value !== null && 'status' in value && 'tier' in value && 'value' in value;
}

@Injectable()
export class CacheHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<HttpResponse>();
    return next.handle().pipe(
      map((answer: unknown) => {
        if (!isCachedAnswer(answer)) return answer;
        response.setHeader('X-Cache', answer.status);
        response.setHeader('X-Cache-Tier', answer.tier);
        if (answer.freshMs !== undefined && answer.status !== 'STALE') {
          const maxAge = Number.isFinite(answer.freshMs) ? Math.floor(answer.freshMs / 1000) : 31_536_000;
          response.setHeader('Cache-Control', `public, max-age=${maxAge}`);
        } else {
          response.setHeader('Cache-Control', 'no-cache');
        }
        if (answer.version !== undefined) {
          const etag = etagOf(answer.version);
          response.setHeader('ETag', etag);
          if ((request.method === 'GET' || request.method === 'HEAD') && matchesEtag(request.headers['if-none-match'], etag)) {
            response.status(304);
            return undefined;
          }
        }
        return answer.value;
      }),
    );
  }
}
