// tests/nest/support/nest.ts: helpers of the NestJS tests: a Nest application over HTTP built
// from module metadata (closed by the test, so --detectOpenHandles sees what it leaves), a fake
// clock, polling for a condition with a deadline, and counting Redis client connections.

import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';

import { rawCommand } from '../../service/support/redis.js';

export class FakeClock {
  constructor(public ms = 1_700_000_000_000) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A Nest app (Express) from `metadata`, initialized (bootstrap hooks ran) but not listening. */
export async function bootApp(metadata: ModuleMetadata): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

/** Polls `condition` every few ms until it holds; rejects after `timeoutMs` naming `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Client connections a redis-server has, not counting the one asking. */
export async function redisClients(port: number): Promise<number> {
  const reply = await rawCommand(port, 'CLIENT LIST');
  const body = reply.replace(/^\$\d+\r\n/, '');
  return body.split('\n').filter((line) => line.startsWith('id=')).length - 1;
}

/** A promise with its resolve function (a gate a test opens). */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
