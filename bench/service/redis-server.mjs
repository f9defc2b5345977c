// @ts-check
// bench/service/redis-server.mjs: the one redis-server the service benchmarks share: started on a
// free loopback port, stopped (and its temp dir removed) when the benchmark ends. The minimal
// start/stop of tests/service/support/redis.ts, in plain JavaScript so the benchmark runs on node
// alone (that file is TypeScript for Jest).
//
// Invariants: no persistence (--save '' --appendonly no), bound to 127.0.0.1, its own temp dir;
// the server and the dir are registered with tests/service/support/reaper.mjs, a watchdog that
// kills and removes them if this process dies before stop() (a crash, Ctrl-C): a benchmark never
// leaves a server running. Ports come from the kernel (port 0), which another process can take
// before redis binds it: starting retries with a new port on "Address already in use".

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REDIS_HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;
const REAPER = fileURLToPath(new URL('../../tests/service/support/reaper.mjs', import.meta.url));

/** @type {import('node:child_process').ChildProcess | undefined} */
let reaper;

/** @param {string} line "+ pid N", "- pid N", "+ dir PATH", "- dir PATH" */
function tellReaper(line) {
  if (reaper === undefined) {
    reaper = spawn(process.execPath, [REAPER], { stdio: ['pipe', 'ignore', 'ignore'] });
    // Its stdin closing is how it learns this process is gone: neither may keep this one alive.
    reaper.unref();
    /** @type {any} */ (reaper.stdin).unref();
  }
  reaper.stdin?.write(`${line}\n`);
}

/** @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, REDIS_HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the kernel'))));
    });
  });
}

const delay = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One inline command over a fresh connection; resolves with the raw reply (a status line or one
 * bulk string).
 * @param {number} port @param {string} command @param {number} [timeoutMs]
 * @returns {Promise<string>}
 */
export function rawCommand(port, command, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: REDIS_HOST, port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${command} from port ${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk;
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

/**
 * Commands the server has processed so far (INFO stats), this query included: the difference
 * across a measured round tells whether the round's calls reached Redis at all.
 * @param {number} port
 */
export async function commandsProcessed(port) {
  const info = await rawCommand(port, 'INFO stats');
  const match = /total_commands_processed:(\d+)/.exec(info);
  if (match === null) throw new Error(`INFO stats without total_commands_processed: ${info.slice(0, 200)}`);
  return Number(match[1]);
}

/** The server's version (INFO server). @param {number} port */
export async function redisVersion(port) {
  const info = await rawCommand(port, 'INFO server');
  return /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
}

/** @param {string} file */
function logTail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts redis-server on a free loopback port and resolves once it answers PING.
 * @returns {Promise<{ port: number, url: string, pid: number, stop(): Promise<void> }>}
 */
export async function startRedisServer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tickcache-bench-redis-'));
  tellReaper(`+ dir ${dir}`);
  let lastFailure = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const logFile = path.join(dir, `redis-${port}.log`);
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', REDIS_HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', logFile, '--daemonize', 'no'],
      { stdio: 'ignore' },
    );
    /** @type {Error | undefined} */
    let spawnError;
    child.on('error', (error) => (spawnError = error));
    if (child.pid !== undefined) tellReaper(`+ pid ${child.pid}`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (Date.now() < deadline) {
      if (spawnError !== undefined) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`cannot run redis-server: ${spawnError.message}`);
      }
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await rawCommand(port, 'PING', 500).then((reply) => reply.startsWith('+PONG'), () => false)) {
        ready = true;
        break;
      }
      await delay(20);
    }
    if (ready) {
      const pid = /** @type {number} */ (child.pid);
      return {
        port,
        url: `redis://${REDIS_HOST}:${port}`,
        pid,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const stopped = await Promise.race([exited.then(() => true), delay(STOP_TIMEOUT_MS).then(() => false)]);
            if (!stopped) {
              child.kill('SIGKILL');
              await exited;
            }
          }
          tellReaper(`- pid ${pid}`);
          rmSync(dir, { recursive: true, force: true });
          tellReaper(`- dir ${dir}`);
          reaper?.stdin?.end();
          reaper = undefined;
        },
      };
    }
    lastFailure = child.exitCode !== null ? `exited (${child.exitCode}): ${logTail(logFile)}` : `no PING answer within ${READY_TIMEOUT_MS} ms`;
    child.kill('SIGKILL');
    await exited;
    if (child.pid !== undefined) tellReaper(`- pid ${child.pid}`);
    if (!/Address already in use/i.test(lastFailure)) break;
  }
  rmSync(dir, { recursive: true, force: true });
  tellReaper(`- dir ${dir}`);
  throw new Error(`redis-server did not start: ${lastFailure}`);
}
