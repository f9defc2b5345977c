// src/http/admin-token.guard.ts: the admin endpoints' guard: `Authorization: Bearer <token>`
// must carry ADMIN_TOKEN. No token configured: nobody is let in (no credentials, no access).
//
// Invariants: the comparison takes the same time whatever the guess (timingSafeEqual over
// SHA-256 digests, so lengths do not leak either); a refusal is 401 with a
// `WWW-Authenticate: Bearer` challenge and never says whether a token is configured.

import { createHash, timingSafeEqual } from 'node:crypto';

import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';

import { SETTINGS } from '../settings.token.js';
import type { StockServiceSettings } from '../config.js';
import type { HttpRequest, HttpResponse } from './http-types.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** True when the request's bearer token is `expected` (false when there is none to expect). */
export function hasAdminToken(request: HttpRequest, expected: string | undefined): boolean {
  if (expected === undefined || expected === '') return false;
  const header = request.headers['authorization'];
  const text = Array.isArray(header) ? header[0] : header;
  const match = text === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(text);
  if (match === null) return false;
  return timingSafeEqual(digest(match[1]!), digest(expected));
}

@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(SETTINGS) private readonly settings: StockServiceSettings) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    if (hasAdminToken(http.getRequest<HttpRequest>(), this.settings.adminToken)) return true;
    http.getResponse<HttpResponse>().setHeader('WWW-Authenticate', 'Bearer realm="tickcache admin"');
    throw new UnauthorizedException({ statusCode: 401, code: 'admin_token_required', message: 'the admin endpoints need Authorization: Bearer <ADMIN_TOKEN>' });
  }
}
