// tests/service/support/instances.ts: service instances in their own Node processes
// (support/tiered-child.mjs, each a createTieredCache of the built package on the test's Redis),
// driven over IPC: request/reply calls and events the child reports later.
//
// Invariants: every child is registered with the reaper (support/redis.ts) the moment it is
// forked, so none outlives the test process; stop() ends it (politely, then SIGKILL) and waits
// for its exit; events that arrive before anyone waits for them are kept, never lost.

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { guardChildProcess } from './redis.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./tiered-child.mjs', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export interface ChildConfig {
  /** The single redis-server's port (the loaders' INCR counter also goes there). */
  port: number;
  namespace: string;
  lockTtl?: number;
  timeoutMs?: number;
  maxEntries?: number;
}

interface ChildEvent {
  name: string;
  data: Record<string, unknown>;
}

type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'reply'; id: number; result?: unknown; error?: { message: string; code?: string } }
  | { type: 'event'; name: string; data: Record<string, unknown> };

export class TieredChild {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly backlog: ChildEvent[] = [];
  private readonly eventWaiters: Array<{ match: (event: ChildEvent) => boolean; resolve: (event: ChildEvent) => void }> = [];
  private exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.on('message', (raw) => this.receive(raw as ChildMessage));
    child.once('exit', (code, signal) => {
      for (const { reject } of this.pending.values()) reject(new Error(`${name} exited (${code ?? signal}) before replying`));
      this.pending.clear();
    });
  }

  /** Forks a child and resolves once its TieredCache is connected (bus subscribed). */
  static async start(name: string, config: ChildConfig): Promise<TieredChild> {
    const child = fork(CHILD_SCRIPT, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // The child is plain ESM; Jest's --experimental-vm-modules is not needed there.
      execArgv: [],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    guardChildProcess(child);
    const instance = new TieredChild(name, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onMessage = (raw: unknown): void => {
        if ((raw as ChildMessage).type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) while starting`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    return instance;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends `op` and resolves with the child's reply (rejects with its error). */
  request<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no reply to ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ id, op, ...args });
    });
  }

  /** The next event `name` (matching `match`), including one that already arrived. */
  waitForEvent(name: string, match: (data: Record<string, unknown>) => boolean = () => true, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const matches = (event: ChildEvent): boolean => event.name === name && match(event.data);
    const index = this.backlog.findIndex(matches);
    if (index >= 0) return Promise.resolve(this.backlog.splice(index, 1)[0]!.data);
    return new Promise((resolve, reject) => {
      const waiter = {
        match: matches,
        resolve: (event: ChildEvent) => {
          clearTimeout(timer);
          resolve(event.data);
        },
      };
      const timer = setTimeout(() => {
        this.eventWaiters.splice(this.eventWaiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.eventWaiters.push(waiter);
    });
  }

  /** Kills the process with `signal` and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.child.kill(signal);
    await this.exited;
  }

  /** Closes the child's cache and waits for it to exit; SIGKILL if it does not in time. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      await this.request('close', {}, STOP_TIMEOUT_MS);
    } catch {
      // not answering: killed below
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private receive(message: ChildMessage): void {
    if (message.type === 'reply') {
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) {
        const error = new Error(`${this.name}: ${message.error.message}`) as Error & { code?: string };
        if (message.error.code !== undefined) error.code = message.error.code;
        waiter.reject(error);
      } else {
        waiter.resolve(message.result);
      }
    } else if (message.type === 'event') {
      const event: ChildEvent = { name: message.name, data: message.data };
      const index = this.eventWaiters.findIndex((waiter) => waiter.match(event));
      if (index >= 0) this.eventWaiters.splice(index, 1)[0]!.resolve(event);
      else this.backlog.push(event);
    }
  }
}

/** Starts `count` children in parallel; stops those that started if one fails. */
export async function startChildren(prefix: string, count: number, config: ChildConfig): Promise<TieredChild[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, (_, i) => TieredChild.start(`${prefix}${i}`, config)));
  const started = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(started.map((child) => child.stop()));
    throw failure.reason;
  }
  return started;
}
