// js/src/tiered/bus.ts: the invalidation bus: what one instance invalidates, every other
// instance drops from its L1 (L2 is shared, so it was invalidated once, by the sender).
//
// Invariants:
// - A message names what to drop (keys, tags, prefixes, patterns, or everything); applying it
//   twice is harmless, so redelivery or a lost-then-repeated message never corrupts anything.
// - Every message carries its sender's instance id; an instance ignores its own.
// - Messages that do not parse, or come from another namespace's channel, are dropped and
//   reported, never applied partly.
// - The subscriber connection resubscribes by itself after Redis comes back (ioredis
//   autoResubscribe); `connected` and the reconnect count say so for health checks and tests.

import type { Cluster, Redis } from 'ioredis';

export type InvalidationKind = 'keys' | 'tags' | 'prefixes' | 'patterns' | 'clear';

export interface InvalidationMessage {
  kind: InvalidationKind;
  values: string[];
}

interface WireMessage extends InvalidationMessage {
  v: 1;
  origin: string;
}

export interface InvalidationBus {
  readonly instanceId: string;
  /** Sends to every other instance. Rejects when the bus is down (the caller decides). */
  publish(message: InvalidationMessage): Promise<void>;
  /** Called for every message from another instance. */
  onMessage(handler: (message: InvalidationMessage) => void): void;
  close(): Promise<void>;
}

const KINDS: ReadonlySet<string> = new Set(['keys', 'tags', 'prefixes', 'patterns', 'clear']);

function parse(text: string): WireMessage | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const message = parsed as Partial<WireMessage> | null;
  if (
    message === null ||
    typeof message !== 'object' ||
    message.v !== 1 ||
    typeof message.origin !== 'string' ||
    typeof message.kind !== 'string' ||
    !KINDS.has(message.kind) ||
    !Array.isArray(message.values) ||
    !message.values.every((value) => typeof value === 'string')
  ) {
    return undefined;
  }
  return message as WireMessage;
}

export interface RedisBusOptions {
  /** Publishes on this connection (shared with L2 is fine). */
  publisher: Redis | Cluster;
  /** A dedicated connection for SUBSCRIBE (a subscribed connection can do nothing else). */
  subscriber: Redis | Cluster;
  /** The channel; instances of one service share it. Default "tc:bus". */
  channel?: string;
  instanceId?: string;
  onError?: (error: unknown, context: string) => void;
}

let instanceCounter = 0;
/** Longest wait for the UNSUBSCRIBE of close() (a hung server must not hang shutdown). */
const CLOSE_TIMEOUT_MS = 1000;

export class RedisBus implements InvalidationBus {
  readonly instanceId: string;
  readonly channel: string;
  received = 0;
  ignoredOwn = 0;
  rejected = 0;
  resubscribed = 0;
  private readonly handlers: Array<(message: InvalidationMessage) => void> = [];
  private readonly subscribed: Promise<unknown>;
  private readonly onError: (error: unknown, context: string) => void;

  constructor(private readonly options: RedisBusOptions) {
    this.channel = options.channel ?? 'tc:bus';
    this.instanceId = options.instanceId ?? `${process.pid}-${Date.now().toString(36)}-${++instanceCounter}`;
    this.onError = options.onError ?? (() => {});
    const subscriber = options.subscriber;
    // Without a listener ioredis prints "Unhandled error event" for every failed reconnect
    // while Redis is away (a duplicate() connection does not inherit the parent's listener).
    subscriber.on('error', (error: unknown) => this.onError(error, 'bus connection'));
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.deliver(text);
    });
    // ioredis resubscribes on reconnect; count it so health checks and tests can see it.
    let readyBefore = false;
    subscriber.on('ready', () => {
      if (readyBefore) this.resubscribed++;
      readyBefore = true;
    });
    this.subscribed = subscriber.subscribe(this.channel).catch((error: unknown) => this.onError(error, 'bus subscribe'));
  }

  /** Resolves once the first SUBSCRIBE was answered (or failed: ioredis retries on reconnect). */
  ready(): Promise<unknown> {
    return this.subscribed;
  }

  get connected(): boolean {
    return (this.options.subscriber as { status?: string }).status === 'ready';
  }

  async publish(message: InvalidationMessage): Promise<void> {
    const wire: WireMessage = { v: 1, origin: this.instanceId, kind: message.kind, values: message.values };
    await this.options.publisher.publish(this.channel, JSON.stringify(wire));
  }

  onMessage(handler: (message: InvalidationMessage) => void): void {
    this.handlers.push(handler);
  }

  async close(): Promise<void> {
    const subscriber = this.options.subscriber;
    // While Redis is away the subscriber (offline queue on, so SUBSCRIBE survives reconnects)
    // would queue the UNSUBSCRIBE until Redis returns: close() must not wait for that.
    if (subscriber.status !== 'ready') return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        subscriber.unsubscribe(this.channel),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        }),
      ]);
    } catch {
      // disconnected meanwhile: nothing to unsubscribe
    } finally {
      clearTimeout(timer);
    }
  }

  private deliver(text: string): void {
    const message = parse(text);
    if (message === undefined) {
      this.rejected++;
      this.onError(new Error(`bus: dropped a malformed message (${text.slice(0, 80)})`), 'bus message');
      return;
    }
    if (message.origin === this.instanceId) {
      this.ignoredOwn++;
      return;
    }
    this.received++;
    for (const handler of this.handlers) {
      try {
        handler({ kind: message.kind, values: message.values });
      } catch (error) {
        this.onError(error, 'bus handler');
      }
    }
  }
}
