// tests/service/support/redis.ts: real redis-server processes for the service tests: one node on
// a free loopback port (stoppable and startable again on the same port, so a test can take Redis
// away under load and bring it back), and a 3-master Redis Cluster on loopback.
//
// Invariants: every server runs with no persistence (--save '' --appendonly no), bound to
// 127.0.0.1, in its own temp dir; every process and temp dir this file creates is removed by
// stop()/teardown (Jest afterAll), and, should the test process die before that (Ctrl-C, a
// crash, Jest bailing out), by support/reaper.mjs, a watchdog process that outlives it.
// Ports come from the kernel (bind a socket to port 0, read the port, close it); redis cannot listen on port 0 itself, so a port can be taken by someone
// else in between: starting retries with a new port on "Address already in use".

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;

// ---- leak guard: a reaper process cleans up if this process dies first ---------------------

let reaper: ChildProcess | undefined;

function tellReaper(line: string): void {
  if (reaper === undefined) {
    const script = fileURLToPath(new URL('./reaper.mjs', import.meta.url));
    reaper = spawn(process.execPath, [script], { stdio: ['pipe', 'ignore', 'ignore'] });
    // Neither the reaper nor its pipe may keep this process alive: its end is the signal.
    reaper.unref();
    (reaper.stdin as unknown as { unref(): void }).unref();
  }
  reaper.stdin?.write(`${line}\n`);
}

function track(child: ChildProcess): void {
  if (child.pid !== undefined) tellReaper(`+ pid ${child.pid}`);
}

function untrack(child: ChildProcess): void {
  if (child.pid !== undefined) tellReaper(`- pid ${child.pid}`);
}

/**
 * Registers a child process of a test (not only redis-servers: also the Node instances of the
 * multi-process tests) with the reaper, so it is killed if this process dies before stopping it.
 */
export function guardChildProcess(child: ChildProcess): void {
  track(child);
  child.once('exit', () => untrack(child));
}

function makeTempDir(label: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `tickcache-${label}-`));
  tellReaper(`+ dir ${dir}`);
  return dir;
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tellReaper(`- dir ${dir}`);
}

// ---- small helpers ----------------------------------------------------------------------

/** A port the kernel says is free right now (it may be taken again before redis binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the kernel'))));
    });
  });
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends one inline command over a fresh connection and returns the raw reply text. */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${command} from port ${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      // Replies used here are one line ("+PONG") or one bulk string ("$<n>\r\n<n bytes>\r\n").
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      const complete = bulk === null ? reply.endsWith('\r\n') : reply.length >= bulk[0].length + Number(bulk[1]) + 2;
      if (complete) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function answersPing(port: number): Promise<boolean> {
  try {
    return (await rawCommand(port, 'PING', 500)).startsWith('+PONG');
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// ---- one redis-server -------------------------------------------------------------------

export interface RedisServerOptions {
  /** Extra `--name value` arguments (e.g. ['--cluster-enabled', 'yes']). */
  extraArgs?: (port: number, dir: string) => string[];
  label?: string;
  /** The port to try first instead of a free one (lets a test prove the retry on a taken port). */
  port?: number;
}

/** One redis-server on a loopback port. start() picks the port once; later starts reuse it. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  private portNumber = 0;

  constructor(private readonly options: RedisServerOptions = {}) {}

  get port(): number {
    if (this.portNumber === 0) throw new Error('the redis server was never started');
    return this.portNumber;
  }

  get host(): string {
    return HOST;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts redis-server (a new free port the first time, the same port afterwards) and waits for PING. */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error(`redis on port ${this.portNumber} is already running`);
    this.dir ??= makeTempDir(this.options.label ?? 'redis');
    let lastFailure = '';
    for (let attempt = 0; attempt < PORT_ATTEMPTS; ++attempt) {
      const samePort = this.portNumber !== 0;
      const wanted = attempt === 0 ? this.options.port : undefined;
      const port = samePort ? this.portNumber : (wanted ?? (await freePort()));
      const outcome = await this.launch(port);
      if (outcome === 'ready') {
        this.portNumber = port;
        return;
      }
      lastFailure = outcome;
      if (!/Address already in use/i.test(outcome)) break;
      // The same port is wanted after a restart: wait for whoever holds it; otherwise pick anew.
      if (samePort) await delay(200);
    }
    throw new Error(`redis-server did not start: ${lastFailure}`);
  }

  private async launch(port: number): Promise<'ready' | string> {
    const dir = this.dir as string;
    const logFile = path.join(dir, `redis-${port}.log`);
    const args = [
      '--port', String(port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--logfile', logFile,
      '--daemonize', 'no',
      '--protected-mode', 'yes',
      // DEBUG SLEEP lets the timeout tests hang the server on purpose; local connections only.
      '--enable-debug-command', 'local',
      ...(this.options.extraArgs?.(port, dir) ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    track(child);
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.once('exit', () => untrack(child));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (spawnError !== undefined) return `cannot run redis-server: ${spawnError.message}`;
      if (child.exitCode !== null || child.signalCode !== null) {
        return `redis-server exited (${child.exitCode ?? child.signalCode}): ${readTail(logFile)}`;
      }
      if (await answersPing(port)) {
        this.child = child;
        return 'ready';
      }
      await delay(20);
    }
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
    return `no PING answer on port ${port} within ${READY_TIMEOUT_MS} ms: ${readTail(logFile)}`;
  }

  /** Stops the server (SIGTERM: with no persistence configured it saves nothing) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
  }

  /** Stops the server and removes its temp dir; the object cannot be started again. */
  async teardown(): Promise<void> {
    await this.stop();
    if (this.dir !== undefined) removeTempDir(this.dir);
    this.dir = undefined;
  }

  /** The server's process id (for tests that check nothing leaked). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The log directory, for messages when something goes wrong. */
  get directory(): string | undefined {
    return this.dir;
  }
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a single redis-server for one test file. */
export async function startRedis(label = 'redis'): Promise<RedisServer> {
  const server = new RedisServer({ label });
  await server.start();
  return server;
}

// ---- a 3-master cluster -----------------------------------------------------------------

export interface RedisClusterHandle {
  readonly nodes: readonly RedisServer[];
  /** host/port pairs for ioredis.Cluster's startup nodes. */
  readonly startupNodes: ReadonlyArray<{ host: string; port: number }>;
  teardown(): Promise<void>;
}

async function clusterInfoOk(port: number): Promise<boolean> {
  try {
    const info = await rawCommand(port, 'CLUSTER INFO', 1000);
    return info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384');
  } catch {
    return false;
  }
}

/**
 * Starts `size` cluster-enabled servers (each with its own cluster bus port, picked like the
 * client port) and joins them with `redis-cli --cluster create` (masters only), then waits until
 * every node reports cluster_state:ok with all 16384 slots.
 */
export async function startRedisCluster(size = 3): Promise<RedisClusterHandle> {
  const nodes: RedisServer[] = [];
  const teardown = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.teardown()));
  };
  try {
    for (let i = 0; i < size; ++i) {
      const busPort = await freePort();
      const node = new RedisServer({
        label: `cluster${i}`,
        extraArgs: (port, dir) => [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
          '--cluster-port', String(busPort),
          '--cluster-node-timeout', '1000',
        ],
      });
      nodes.push(node);
      await node.start();
    }
    const addresses = nodes.map((node) => `${HOST}:${node.port}`);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) {
      throw new Error(`redis-cli --cluster create failed (${created.status}): ${created.stdout}\n${created.stderr}`);
    }
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(nodes.map((node) => clusterInfoOk(node.port)));
      if (states.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error(`the cluster did not reach cluster_state:ok (${states.join(',')})`);
      await delay(50);
    }
  } catch (error) {
    await teardown();
    throw error;
  }
  return {
    nodes,
    startupNodes: nodes.map((node) => ({ host: HOST, port: node.port })),
    teardown,
  };
}

/** Waits until every node of the cluster reports cluster_state:ok (after a node came back). */
export async function waitForClusterOk(handle: RedisClusterHandle, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(handle.nodes.map((node) => clusterInfoOk(node.port)));
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`the cluster did not return to cluster_state:ok (${states.join(',')})`);
    await delay(50);
  }
}
