// src/cache/throttled-log.ts: the cache's absorbed errors (Redis down, a failed background
// refresh) as structured warnings, at most one line per context every few seconds with a count
// of what was held back -- while Redis is away every request fails over, and the log must stay
// readable.

import type { LoggerService } from '@nestjs/common';

const WINDOW_MS = 5000;

export class ThrottledLog {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly logger: LoggerService,
    private readonly windowMs = WINDOW_MS,
  ) {}

  warn(context: string, error: unknown): void {
    // "l2 get price:latest:AAPL" and "l2 get price:latest:MSFT" are one kind of trouble.
    const kind = context.split(' ').slice(0, 2).join(' ');
    const now = Date.now();
    const seen = this.last.get(kind);
    if (seen !== undefined && now - seen.at < this.windowMs) {
      seen.held++;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    this.logger.warn(JSON.stringify({ event: 'cache_error', context, code, message, heldBack: seen?.held ?? 0 }), 'TickCache');
    this.last.set(kind, { at: now, held: 0 });
  }
}
