// bench/load.mjs: the stock service under load (autocannon), one run, one command:
//
//   node examples/stock-service/bench/load.mjs
//
// Two workloads, each against three builds of the same app (CACHE_MODE), every one a fresh
// process on one redis-server started here:
//   hot-5   500 connections asking the latest price of 5 symbols (USER-NEEDS.md's load test)
//   zipf    500 connections over 500 symbols, Zipf-distributed (s = 1: a few symbols are most
//           of the traffic, as on a real market-data service)
//   tickcache       TickCacheModule: L1 + Redis L2, coalesced misses (in process and across)
//   cache-manager   @nestjs/cache-manager's CacheInterceptor, cache-manager 7 over Keyv
//                   (memory in front of @keyv/redis), the same Redis
//   off             tickcache's switch off: every request reaches the vendor
// Printed per run: requests, non-2xx, req/s, hit ratio (requests answered without a vendor
// call: 1 - vendor calls / requests, the same measure for every build), vendor calls and calls
// per minute, p50/p90/p99 latency at 500 connections (cold start included: every build starts
// empty), then p50/p99 at 10 connections once warm (500 connections on 2 cores queue each
// request behind the others, whatever answers it); then tickcache's ratios to the others. The goal (hit ratio
// >= 80 % on the Zipf workload) is checked: exit code 1 when tickcache misses it.
//
// Knobs: BENCH_SECONDS (per run, default 12: 6 runs, ~1.5 min in all), BENCH_CONNECTIONS (500),
// BENCH_LATENCY_SCALE (1 = the vendor's real 500-2000 ms; 0.1 = 50-200 ms, printed), ZIPF_S (1).
// The vendor's rate limit is off here (the benchmark measures demand: calls per minute); the
// output says how much of that demand the default 20 calls/s plan would refuse.
// Writes build/bench/stock-service-load.json at the repository root.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import autocannon from 'autocannon';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVICE = path.resolve(HERE, '..');
const ROOT = path.resolve(SERVICE, '../..');

function numberFromEnv(name, fallback, check) {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || !check(value)) {
    console.error(`load.mjs: ${name} must be ${check.description}, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}
const positive = Object.assign((n) => n > 0, { description: 'a number > 0' });
const SECONDS = numberFromEnv('BENCH_SECONDS', 12, positive);
const CONNECTIONS = Math.round(numberFromEnv('BENCH_CONNECTIONS', 500, positive));
const SCALE = numberFromEnv('BENCH_LATENCY_SCALE', 1, positive);
const ZIPF_S = numberFromEnv('ZIPF_S', 1, positive);
// For a quick look at one case: BENCH_ONLY="zipf tickcache" (workloads and builds to keep).
const ONLY = (process.env['BENCH_ONLY'] ?? '').split(/[\s,]+/).filter(Boolean);
const ALL_BUILDS = ['tickcache', 'cache-manager', 'off'];
const ALL_WORKLOADS = ['hot-5', 'zipf'];
const keep = (names, name) => !ONLY.some((o) => names.includes(o)) || ONLY.includes(name);
const BUILDS = ALL_BUILDS.filter((name) => keep(ALL_BUILDS, name));
const PROBE_SECONDS = 3;
const PROBE_CONNECTIONS = 10;
const LATENCY = { min: Math.round(500 * SCALE), max: Math.round(2000 * SCALE) };
const DEFAULT_PLAN_PER_MINUTE = 20 * 60;
const ADMIN_TOKEN = 'bench-admin-token';
const HIT_RATIO_GOAL = 0.8;

// ---- build ---------------------------------------------------------------------------------

function build() {
  if (!existsSync(path.join(ROOT, 'dist/esm/index.js'))) {
    console.error('load.mjs: tickcache is not built (dist/esm/index.js): run `bash scripts/run.sh` or `npm run build` first');
    process.exit(2);
  }
  const tsc = spawnSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(SERVICE, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

// ---- processes we own: one redis-server, one service at a time ----------------------------

const owned = new Set();
function cleanUp() {
  for (const child of owned) child.kill('SIGKILL');
  owned.clear();
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      owned.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stock-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  owned.add(child);
  const pings = () =>
    new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
      socket.on('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.on('error', () => resolve(false));
    });
  await waitUntil('redis-server answers PING', pings, 10_000);
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startService(mode, redisUrl, namespace) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(SERVICE, 'dist/main.js')], {
    cwd: SERVICE,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      CACHE_MODE: mode,
      REDIS_URL: redisUrl,
      REDIS_NAMESPACE: namespace,
      ADMIN_TOKEN,
      LOGS: '0',
      L1_STORE: 'memory', // every run starts cold
      WARM_SYMBOLS: 'none', // the peers do not warm: no build starts ahead
      VENDOR_LATENCY_MS: `${LATENCY.min}-${LATENCY.max}`,
      VENDOR_RATE_LIMIT: '0',
      VENDOR_FAILURE_RATE: '0.02',
      VENDOR_SEED: '42',
      NODE_ENV: 'production',
    },
  });
  owned.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const base = `http://127.0.0.1:${port}`;
  await waitUntil(
    `the ${mode} service answers`,
    async () => {
      if (child.exitCode !== null) throw new Error(`the ${mode} service exited: ${stderr}`);
      return fetch(`${base}/vendor/stats`).then((r) => r.ok, () => false);
    },
    30_000,
  );
  return { base, stop: () => stopChild(child), stderr: () => stderr };
}

// ---- workloads -----------------------------------------------------------------------------

/** mulberry32: the same request sequence on every run and every build. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zipfSampler(count, s, random) {
  const cdf = new Float64Array(count);
  let sum = 0;
  for (let rank = 1; rank <= count; rank++) {
    sum += 1 / rank ** s;
    cdf[rank - 1] = sum;
  }
  for (let i = 0; i < count; i++) cdf[i] /= sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

async function workloads() {
  const { UNIVERSE } = await import(pathToFileURL(path.join(SERVICE, 'dist/vendor/market-data.js')).href);
  const hot = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL'];
  const symbols = UNIVERSE.map((info) => info.symbol);
  return [
    {
      name: 'hot-5',
      describe: `${CONNECTIONS} connections, latest price of 5 symbols`,
      nextPath: () => {
        let i = 0;
        return () => `/stocks/${hot[i++ % hot.length]}/price`;
      },
    },
    {
      name: 'zipf',
      describe: `${CONNECTIONS} connections, latest price of ${symbols.length} symbols, Zipf s=${ZIPF_S}`,
      nextPath: () => {
        const pick = zipfSampler(symbols.length, ZIPF_S, seededRandom(7));
        return () => `/stocks/${symbols[pick()]}/price`;
      },
    },
  ];
}

// ---- one run -------------------------------------------------------------------------------

async function json(url, init) {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

async function run(mode, workload, redisUrl, index) {
  const service = await startService(mode, redisUrl, `bench${index}:`);
  try {
    // Start-up's own calls (the symbol list) are not the workload's.
    await json(`${service.base}/vendor/stats/reset`, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    const nextPath = workload.nextPath();
    const result = await autocannon({
      url: service.base,
      connections: CONNECTIONS,
      duration: SECONDS,
      timeout: 30,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: nextPath() }) }],
    });
    const vendor = await json(`${service.base}/vendor/stats`);
    const cacheStats =
      mode === 'cache-manager' ? undefined : await json(`${service.base}/cache/stats`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    // Then the latency of one request when the server is not saturated: 500 connections on 2
    // cores queue every request behind hundreds of others, whatever answers it.
    const probe = await autocannon({
      url: service.base,
      connections: PROBE_CONNECTIONS,
      duration: PROBE_SECONDS,
      timeout: 30,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: nextPath() }) }],
    });
    const requests = result.requests.total;
    return {
      mode,
      workload: workload.name,
      requests,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      requestsPerSecond: requests / result.duration,
      hitRatio: requests > 0 ? Math.max(0, 1 - vendor.calls / requests) : 0,
      cacheHitRate: cacheStats?.hitRate,
      vendorCalls: vendor.calls,
      vendorCallsPerMinute: (vendor.calls / result.duration) * 60,
      vendorMaxInFlight: vendor.maxInFlight,
      p50Ms: result.latency.p50,
      p90Ms: result.latency.p90,
      p99Ms: result.latency.p99,
      probeP50Ms: probe.latency.p50,
      probeP99Ms: probe.latency.p99,
      durationS: result.duration,
    };
  } finally {
    await service.stop();
  }
}

// ---- report --------------------------------------------------------------------------------

const pct = (x) => `${(x * 100).toFixed(1)} %`;
const num = (x, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
// autocannon measures whole milliseconds: 0 is "under 1 ms".
const ms = (x) => (x === 0 ? '<1' : num(x, 0));
const ratio = (a, b) => (b > 0 && a > 0 ? (a / b >= 10 ? `${num(a / b, 0)}x` : `${num(a / b, 2)}x`) : b === 0 && a > 0 ? `>${num(a, 0)}x` : 'n/a');

function table(rows) {
  const header = ['build', 'requests', 'non-2xx', 'req/s', 'hit ratio', 'vendor calls', 'calls/min', 'p50 ms', 'p90 ms', 'p99 ms', `${PROBE_CONNECTIONS}-conn p50`, 'p99'];
  const lines = rows.map((r) => [
    r.mode,
    num(r.requests),
    num(r.non2xx + r.errors),
    num(r.requestsPerSecond),
    pct(r.hitRatio),
    num(r.vendorCalls),
    num(r.vendorCallsPerMinute),
    ms(r.p50Ms),
    ms(r.p90Ms),
    ms(r.p99Ms),
    ms(r.probeP50Ms),
    ms(r.probeP99Ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [format(header), ...lines.map(format)].join('\n');
}

async function main() {
  build();
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
  console.log(`stock-service load benchmark on ${machine}`);
  console.log(
    `vendor: ${LATENCY.min}-${LATENCY.max} ms per call (latency scale ${SCALE}${SCALE === 1 ? ': the real 500-2000 ms' : ` of the real 500-2000 ms`}), ` +
      `2 % failures, rate limit off; ${SECONDS} s per run + ${PROBE_SECONDS} s at ${PROBE_CONNECTIONS} connections, ` +
      `autocannon and the service in separate processes\n`,
  );
  const redis = await startRedis();
  const results = [];
  let failed = false;
  try {
    let index = 0;
    for (const workload of (await workloads()).filter((w) => keep(ALL_WORKLOADS, w.name))) {
      console.log(`== ${workload.name}: ${workload.describe}`);
      const rows = [];
      for (const mode of BUILDS) {
        const row = await run(mode, workload, redis.url, index++);
        rows.push(row);
        results.push(row);
      }
      console.log(table(rows));
      const tc = rows.find((row) => row.mode === 'tickcache');
      const peers = [['cache-manager', 'cache-manager'], ['caching off  ', 'off']]
        .map(([name, mode]) => [name, rows.find((row) => row.mode === mode)])
        .filter(([, row]) => row !== undefined && tc !== undefined);
      for (const [name, peer] of peers) {
        console.log(
          `tickcache vs ${name}: vendor calls per request ${ratio(peer.vendorCalls / peer.requests, tc.vendorCalls / tc.requests)} fewer, ` +
            `req/s ${ratio(tc.requestsPerSecond, peer.requestsPerSecond)}, p50 ${ratio(peer.p50Ms, tc.p50Ms)} and p99 ${ratio(peer.p99Ms, tc.p99Ms)} lower ` +
            `(unsaturated: p50 ${ratio(peer.probeP50Ms, tc.probeP50Ms)}, p99 ${ratio(peer.probeP99Ms, tc.probeP99Ms)} lower)`,
        );
      }
      for (const row of rows) {
        if (row.vendorCallsPerMinute > DEFAULT_PLAN_PER_MINUTE) {
          const refused = 1 - DEFAULT_PLAN_PER_MINUTE / row.vendorCallsPerMinute;
          console.log(`  ${row.mode}: ${num(row.vendorCallsPerMinute)} calls/min is over a 20 calls/s plan: ${pct(refused)} of them would be refused`);
        }
      }
      if (tc?.cacheHitRate !== undefined) {
        console.log(`  tickcache's own hit rate (GET /cache/stats): ${pct(tc.cacheHitRate)} (a request that waited for another's load counts as a miss there)`);
      }
      if (workload.name === 'zipf' && tc !== undefined) {
        const met = tc.hitRatio >= HIT_RATIO_GOAL;
        failed ||= !met;
        console.log(`  goal: hit ratio >= ${pct(HIT_RATIO_GOAL)} on the Zipf workload: ${pct(tc.hitRatio)}, ${met ? 'met' : 'MISSED'}`);
      }
      console.log('');
    }
  } finally {
    await redis.stop();
  }
  const out = path.join(ROOT, 'build/bench/stock-service-load.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ machine, seconds: SECONDS, connections: CONNECTIONS, latencyMs: LATENCY, latencyScale: SCALE, zipfS: ZIPF_S, results }, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), out) || out}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(`load.mjs: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  cleanUp();
  process.exit(1);
});
