// js/src/nest/admin.ts: the opt-in admin endpoints (GET stats, report, health, metrics; POST
// invalidate, refresh, enabled; DELETE clear) and the guard in front of them.
//
// Invariants: no credentials, no access: with neither a token nor a guard configured every
// admin request is refused (403); a missing bearer token is 401 (with WWW-Authenticate), a
// wrong one 403; tokens are compared in constant time. A bad request (unknown event, bad
// pattern, no target) is a 400 naming the bad value, and nothing is invalidated. The admin
// routes are never cached by TickCacheInterceptor (@NoCache).

import { timingSafeEqual } from 'node:crypto';

import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  Header,
  HttpCode,
  HttpException,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Optional,
  Post,
  Query,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import type { CanActivate, DynamicModule, ExecutionContext, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

import { TickcacheError } from '../index.js';
import type { TieredCache } from '../tiered/tiered-cache.js';
import { NoCache } from './interceptor.js';
import type { TickCacheAdminOptions } from './options.js';
import { buildReport, l1MemoryOf, renderReportText } from './report.js';
import { TICKCACHE, TICKCACHE_ADMIN_GUARD, TICKCACHE_ADMIN_OPTIONS } from './tokens.js';
import { isTickcacheError, messageOf } from './util.js';

function tokensOf(options: TickCacheAdminOptions): Buffer[] {
  const list = options.token === undefined ? [] : typeof options.token === 'string' ? [options.token] : [...options.token];
  return list.filter((token) => typeof token === 'string' && token !== '').map((token) => Buffer.from(token, 'utf8'));
}

function sameSecret(given: Buffer, expected: Buffer): boolean {
  // timingSafeEqual needs equal lengths; comparing against itself keeps the time flat anyway.
  return given.length === expected.length ? timingSafeEqual(given, expected) : (timingSafeEqual(expected, expected), false);
}

/** The admin guard: your guard (admin.guard) when there is one, else the bearer token check. */
@Injectable()
export class TickCacheAdminGuard implements CanActivate {
  constructor(
    @Inject(TICKCACHE_ADMIN_OPTIONS) private readonly options: TickCacheAdminOptions,
    @Optional() @Inject(TICKCACHE_ADMIN_GUARD) private readonly custom?: CanActivate,
  ) {}

  canActivate(context: ExecutionContext): ReturnType<CanActivate['canActivate']> {
    if (this.custom !== undefined && this.custom !== null) return this.custom.canActivate(context);
    const tokens = tokensOf(this.options);
    if (tokens.length === 0) {
      throw new ForbiddenException('the cache admin endpoints are closed: configure admin.token or admin.guard');
    }
    const request = context.switchToHttp().getRequest<{ headers?: Record<string, unknown> }>();
    const header = request.headers?.['authorization'];
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (match === null) {
      const response = context.switchToHttp().getResponse<{ setHeader?: (name: string, value: string) => void }>();
      response.setHeader?.('WWW-Authenticate', 'Bearer realm="tickcache admin"');
      throw new UnauthorizedException('a bearer token is required (Authorization: Bearer <token>)');
    }
    const given = Buffer.from(match[1]!, 'utf8');
    if (!tokens.some((token) => sameSecret(given, token))) throw new ForbiddenException('this token is not allowed');
    return true;
  }
}

interface InvalidateRequest {
  event?: unknown;
  data?: unknown;
  key?: unknown;
  keys?: unknown;
  tag?: unknown;
  tags?: unknown;
  pattern?: unknown;
  patterns?: unknown;
  prefix?: unknown;
  prefixes?: unknown;
}

function badRequest(code: string, message: string): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', code, message });
}

/** A string or an array of strings from a body or query field; undefined when absent. */
function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item) => typeof item === 'string' && item !== '')) {
    throw badRequest('invalid_argument', `${field} must be a non-empty string or an array of them, got ${JSON.stringify(value)}`);
  }
  return list as string[];
}

function eventData(data: unknown): Record<string, unknown> {
  if (data === undefined) return {};
  let parsed: unknown = data;
  if (typeof data === 'string') {
    try {
      parsed = JSON.parse(data) as unknown;
    } catch {
      throw badRequest('invalid_argument', `data must be a JSON object, got ${JSON.stringify(data)}`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest('invalid_argument', `data must be an object, got ${JSON.stringify(data)}`);
  }
  return parsed as Record<string, unknown>;
}

/** Client mistakes the cache reports (unknown event, bad pattern) become 400s; the rest propagates. */
function asHttpError(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  if (isTickcacheError(error) && error.code !== 'internal' && !error.code.startsWith('l2_') && error.code !== 'closed') {
    return badRequest(error.code, error.message);
  }
  return error;
}

/** The admin controller class, mounted at `path` (Nest reads the path from the class). */
export function createAdminController(path = 'cache'): Type<unknown> {
  @Controller(path)
  @UseGuards(TickCacheAdminGuard)
  @NoCache()
  class TickCacheAdminController {
    constructor(
      @Inject(TICKCACHE) readonly cache: TieredCache,
      @Inject(TICKCACHE_ADMIN_OPTIONS) readonly options: TickCacheAdminOptions,
    ) {}

    @Get('stats')
    stats(): unknown {
      return { ...this.cache.stats(), l1Memory: l1MemoryOf(this.cache.l1.stats()) };
    }

    @Get('report')
    report(
      @Query('format') format: string | undefined,
      @Res({ passthrough: true }) response: { setHeader?: (name: string, value: string) => void },
    ): unknown {
      const report = buildReport(this.cache, this.options.alerts, this.options.topKeys ?? 20);
      if (format === 'text') {
        response.setHeader?.('Content-Type', 'text/plain; charset=utf-8');
        return renderReportText(report);
      }
      return report;
    }

    /** 200 while healthy, 503 when degraded (hit rate below threshold, L2 away, caching off). */
    @Get('health')
    health(@Query('minHitRate') minHitRate: string | undefined): unknown {
      let threshold: number | undefined;
      if (minHitRate !== undefined) {
        threshold = Number(minHitRate);
        if (!(threshold >= 0 && threshold <= 1)) {
          throw badRequest('invalid_argument', `minHitRate must be a number in [0, 1], got ${JSON.stringify(minHitRate)}`);
        }
      }
      const report = this.cache.health(threshold ?? this.options.alerts?.minHitRate);
      if (report.status !== 'ok') throw new HttpException(report, 503);
      return report;
    }

    @Get('metrics')
    @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
    metrics(): string {
      return this.cache.prometheus();
    }

    /**
     * Body or query: { event, data } | { key(s) } | { tag(s) } | { pattern(s) } | { prefix(es) }
     * (several at once are all applied). `data` may be a JSON string (?event=x&data={...}).
     */
    @Post('invalidate')
    @HttpCode(200)
    async invalidate(@Body() body: InvalidateRequest | undefined, @Query() query: InvalidateRequest): Promise<unknown> {
      const input: InvalidateRequest = { ...query, ...(typeof body === 'object' && body !== null ? body : {}) };
      const keys = [...(stringList(input.key, 'key') ?? []), ...(stringList(input.keys, 'keys') ?? [])];
      const tags = [...(stringList(input.tag, 'tag') ?? []), ...(stringList(input.tags, 'tags') ?? [])];
      const patterns = [...(stringList(input.pattern, 'pattern') ?? []), ...(stringList(input.patterns, 'patterns') ?? [])];
      const prefixes = [...(stringList(input.prefix, 'prefix') ?? []), ...(stringList(input.prefixes, 'prefixes') ?? [])];
      const event = stringList(input.event, 'event');
      if (event !== undefined && event.length > 1) throw badRequest('invalid_argument', 'one event at a time');
      const data = eventData(input.data);
      if (keys.length + tags.length + patterns.length + prefixes.length === 0 && event === undefined) {
        throw badRequest('invalid_argument', 'name what to invalidate: event (+ data), key(s), tag(s), pattern(s) or prefix(es)');
      }
      const removed = { keys: 0, tags: 0, patterns: 0, prefixes: 0, event: 0 };
      try {
        // The event first: an unknown event or missing data is refused before anything is removed.
        if (event !== undefined) removed.event = (await this.cache.emit(event[0]!, data)).removed;
        if (keys.length > 0) removed.keys = await this.cache.delete(keys);
        if (tags.length > 0) removed.tags = await this.cache.invalidateTags(tags);
        for (const pattern of patterns) removed.patterns += await this.cache.invalidatePattern(pattern);
        for (const prefix of prefixes) removed.prefixes += await this.cache.invalidatePrefix(prefix);
      } catch (error) {
        throw asHttpError(error);
      }
      const total = Object.values(removed).reduce((a, b) => a + b, 0);
      return { removed: total, byKind: removed };
    }

    @Delete('clear')
    async clear(): Promise<unknown> {
      return { removed: await this.cache.clear() };
    }

    /** Runs the refresher now ({ keys }: reloads those keys only). */
    @Post('refresh')
    @HttpCode(200)
    async refresh(@Body() body: { keys?: unknown } | undefined): Promise<unknown> {
      const refresher = this.cache.refresher;
      if (refresher === undefined) {
        throw new HttpException(
          { statusCode: 501, code: 'unsupported', message: 'no refresher is running: TickCacheModule.forRoot({ refresher: true })' },
          501,
        );
      }
      const keys = stringList(body?.keys, 'keys');
      if (keys === undefined) return refresher.runOnce();
      const results: Record<string, 'changed' | 'unchanged'> = {};
      for (const key of keys) {
        try {
          results[key] = (await this.cache.reload(key)) ? 'changed' : 'unchanged';
        } catch (error) {
          if (isTickcacheError(error) && error.code === 'not_found') throw new NotFoundException(error.message);
          throw new HttpException({ statusCode: 502, code: 'refresh_failed', message: `${key}: ${messageOf(error)}` }, 502);
        }
      }
      return { refreshed: keys.length, results };
    }

    /** The global switch: { enabled: false } turns caching off at once (every read goes to the source). */
    @Post('enabled')
    @HttpCode(200)
    enabled(@Body() body: { enabled?: unknown } | undefined): unknown {
      if (typeof body?.enabled !== 'boolean') {
        throw badRequest('invalid_argument', `enabled must be true or false, got ${JSON.stringify(body?.enabled)}`);
      }
      this.cache.setEnabled(body.enabled);
      return { enabled: this.cache.enabled };
    }
  }
  return TickCacheAdminController;
}

/** Providers the admin controller needs: its options, the guard, and a custom guard if given. */
export function adminProviders(optionsProvider: Provider): Provider[] {
  return [
    optionsProvider,
    TickCacheAdminGuard,
    {
      provide: TICKCACHE_ADMIN_GUARD,
      useFactory: async (options: TickCacheAdminOptions, moduleRef: ModuleRef): Promise<CanActivate | undefined> => {
        const guard = options.guard;
        if (guard === undefined) return undefined;
        if (typeof guard === 'function') return moduleRef.create(guard as Type<CanActivate>);
        if (typeof (guard as CanActivate).canActivate !== 'function') {
          throw new TickcacheError('invalid_option', 'admin.guard must be a CanActivate class or instance');
        }
        return guard;
      },
      inject: [TICKCACHE_ADMIN_OPTIONS, ModuleRef],
    },
  ];
}

export interface TickCacheAdminModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  path?: string;
  useFactory: (...args: any[]) => TickCacheAdminOptions | Promise<TickCacheAdminOptions>;
  inject?: any[];
}

/**
 * The admin endpoints as a module of their own, for an app whose TickCacheModule is global
 * (TickCacheModule.forRoot({ isGlobal: true })); or use forRoot's `admin` option.
 */
@Module({})
export class TickCacheAdminModule {
  static forRoot(options: TickCacheAdminOptions = {}): DynamicModule {
    return {
      module: TickCacheAdminModule,
      controllers: [createAdminController(options.path)],
      providers: adminProviders({ provide: TICKCACHE_ADMIN_OPTIONS, useValue: options }),
    };
  }

  static forRootAsync(options: TickCacheAdminModuleAsyncOptions): DynamicModule {
    return {
      module: TickCacheAdminModule,
      imports: options.imports ?? [],
      controllers: [createAdminController(options.path)],
      providers: adminProviders({ provide: TICKCACHE_ADMIN_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }),
    };
  }
}
