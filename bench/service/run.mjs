// @ts-check
// bench/service/run.mjs: the service-layer benchmark report (scripts/bench-service.sh runs it):
//   L1 hit  getOrSet/wrap calls answered by the in-memory L1 of tickcache, bentocache, cacheable
//           and cache-manager 7, each over the same Redis as L2: ns per call and calls per second,
//           one at a time (seq) and `batch` at a time (batch), as ratios to bentocache;
//   L2 hit  a tickcache getOrSet answered by Redis (the key deleted from L1 before each call),
//           beside a raw ioredis GET of the same stored bytes: p50, mean and p99 per call.
// Prints a table per part with the goal lines and writes every figure, the versions and the
// machine to build/bench/service-report.json.
//
//   node bench/service/run.mjs [--processes 2] [--rounds 7] [--sample-ms 100] [--warmup-ms 500]
//        [--keys 10000] [--batch 64] [--l2-processes 2] [--l2-keys 1000] [--l2-sample-calls 2000]
//        [--contenders tickcache,bentocache,...] [--skip-l1] [--skip-l2] [--report FILE]
//
// How the figures are made fair (the method of bench/js/run.mjs):
// - one redis-server on loopback, started here and stopped at the end, shared by every process;
//   each process writes under its own key prefix;
// - every contender runs in processes of its own (its JIT sees one library), several of them
//   (a process's hash seeds and heap layout move its figures); the processes are started
//   together and then measured one at a time, round by round, in a rotating order, so load from
//   elsewhere on the machine lands on every contender alike; figures are medians of all rounds;
// - every L1 round is checked: the loader was never called, and Redis processed no command while
//   the round ran (INFO stats before and after), so the calls were L1 hits; for tickcache its L1
//   hit counter also grew by exactly the calls made; every L2 round: one L1 miss and one L2 hit
//   per tickcache call (its stats), bytes for every raw GET, no loader call, and exactly one
//   Redis command per call of either kind (INFO stats before and after the round).
// Invariants: a FAIL goal does not change the exit code (goals are findings); a process that
// crashes is reported with its error, every other figure is still printed and written, and the
// exit code is then 1; the redis-server is stopped however the run ends.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { formatNs, formatRatio, median, quantile, rotated, table } from '../js/stats.mjs';
import { MeasurementProcess } from '../lib/measurement-process.mjs';
import { CONTENDERS, CONTENDER_NAMES, ROOT, TTL_MS, checkContender, peerVersions } from './contenders.mjs';
import { commandsProcessed, redisVersion, startRedisServer } from './redis-server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const L1_MODES = ['seq', 'batch'];
const L2_MODES = ['tickcache', 'raw-get'];
const L1_GOAL = 2; // tickcache L1-hit calls per second / bentocache's, at least
const L2_GOAL = 1.2; // tickcache L2-hit latency / a raw GET's, at most
const BASELINE = 'bentocache';

/** @param {string} name @param {unknown} text */
function positiveInteger(name, text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${String(text)}`);
  return value;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown CPU',
    cores: cpus.length,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

/** The line of a crash report that says what went wrong (the JSON report keeps all of it). @param {string} text */
function firstErrorLine(text) {
  const lines = text.split('\n').map((line) => line.trim());
  const line = lines.find((l) => /^(\w*Error|TickcacheError)\b/.test(l)) ?? lines.find((l) => l !== '') ?? '';
  const status = /^(.*? exited \([^)]*\))/.exec(text)?.[1];
  const full = status !== undefined && !line.startsWith(status) ? `${status}: ${line}` : line;
  return full.length > 300 ? `${full.slice(0, 297)}...` : full;
}

/**
 * @param {string} id @param {string} text @param {number} measured @param {number} limit
 * @param {'min' | 'max'} kind @param {boolean} valid @param {object} [extra]
 */
function goal(id, text, measured, limit, kind, valid, extra = {}) {
  const met = kind === 'min' ? measured >= limit : measured <= limit;
  const verdict = !valid ? 'INVALID' : !Number.isFinite(measured) ? 'N/A' : met ? 'PASS' : 'FAIL';
  return { id, text, measured, limit, verdict, ...extra };
}

/**
 * Forks the processes, waits for them to be ready, and returns the live ones; a process that
 * fails to start is recorded in `crashed`.
 * @param {MeasurementProcess[]} processes @param {Record<string, string>} crashed
 */
async function readyProcesses(processes, crashed) {
  const readies = await Promise.allSettled(processes.map((p) => p.request(null, 'ready')));
  /** @type {MeasurementProcess[]} */
  const live = [];
  readies.forEach((ready, i) => {
    if (ready.status === 'fulfilled') live.push(processes[i]);
    else crashed[processes[i].label] = String(ready.reason?.message ?? ready.reason);
  });
  return live;
}

/**
 * Asks `p`; a process that dies is dropped from `live` and recorded in `crashed`.
 * @param {{ live: MeasurementProcess[], crashed: Record<string, string> }} state
 * @param {MeasurementProcess} p @param {object} message @param {string} expect
 */
async function ask(state, p, message, expect) {
  try {
    return await p.request(message, expect);
  } catch (error) {
    state.crashed[p.label] = error instanceof Error ? error.message : String(error);
    state.live = state.live.filter((other) => other !== p);
    return undefined;
  }
}

/**
 * @param {{ port: number }} server
 * @param {{ contenders: string[], processes: number, rounds: number, sampleMs: number, warmupMs: number, keys: number, batch: number }} settings
 * @param {(line: string) => void} progress
 */
async function measureL1(server, settings, progress) {
  /** @type {Record<string, string>} */
  const crashed = {};
  /** @type {MeasurementProcess[]} */
  const processes = [];
  for (let copy = 1; copy <= settings.processes; copy++) {
    for (const name of settings.contenders) {
      const args = ['--contender', name, '--redis-port', String(server.port), '--keys', String(settings.keys), '--batch', String(settings.batch)];
      args.push('--sample-ms', String(settings.sampleMs), '--warmup-ms', String(settings.warmupMs), '--tag', String(copy));
      processes.push(Object.assign(new MeasurementProcess(path.join(HERE, 'l1-hit.mjs'), args, `${name}#${copy}`), { contender: name }));
    }
  }
  progress(`L1 hit: pre-loading ${settings.keys.toLocaleString('en')} keys in ${processes.length} processes`);
  const state = { live: await readyProcesses(processes, crashed), crashed };
  /** @type {Record<string, number[]>} Redis commands processed during each measured round, per contender and mode */
  const redisCommands = {};
  for (const mode of L1_MODES) {
    progress(`L1 hit: ${mode}: warming up ${state.live.length} processes`);
    for (const p of [...state.live]) await ask(state, p, { type: 'warmup', mode }, 'warmed');
    progress(`L1 hit: ${mode}: ${settings.rounds} rounds`);
    for (let round = 0; round < settings.rounds; round++) {
      for (const p of rotated([...state.live], round)) {
        const before = await commandsProcessed(server.port);
        const measured = await ask(state, p, { type: 'measure', mode }, 'measured');
        const after = await commandsProcessed(server.port);
        // The first INFO is counted in the second reading: nothing else means no command.
        if (measured !== undefined) (redisCommands[`${/** @type {any} */ (p).contender} ${mode}`] ??= []).push(after - before - 1);
      }
    }
  }
  /** @type {Array<{ label: string, report: any }>} */
  const reports = [];
  for (const p of [...state.live]) {
    const finished = await ask(state, p, { type: 'finish' }, 'finished');
    if (finished !== undefined) reports.push({ label: p.label, report: finished.report });
  }
  await Promise.all(processes.map((p) => p.end()));
  return { reports, redisCommands, crashed: state.crashed };
}

/**
 * @param {{ port: number }} server
 * @param {{ processes: number, rounds: number, keys: number, sampleCalls: number }} settings
 * @param {(line: string) => void} progress
 */
async function measureL2(server, settings, progress) {
  /** @type {Record<string, string>} */
  const crashed = {};
  /** @type {MeasurementProcess[]} */
  const processes = [];
  for (let copy = 1; copy <= settings.processes; copy++) {
    const args = ['--redis-port', String(server.port), '--keys', String(settings.keys), '--sample-calls', String(settings.sampleCalls), '--tag', String(copy)];
    processes.push(new MeasurementProcess(path.join(HERE, 'l2-hit.mjs'), args, `l2#${copy}`));
  }
  progress(`L2 hit: pre-loading ${settings.keys.toLocaleString('en')} keys in ${processes.length} processes`);
  const state = { live: await readyProcesses(processes, crashed), crashed };
  /** @type {Record<string, number[]>} Redis commands per call during each measured round, per mode */
  const redisCommands = {};
  for (const p of [...state.live]) await ask(state, p, { type: 'warmup' }, 'warmed');
  progress(`L2 hit: ${settings.rounds} rounds`);
  for (let round = 0; round < settings.rounds; round++) {
    for (const p of rotated([...state.live], round)) {
      for (const mode of rotated(L2_MODES, round)) {
        const before = await commandsProcessed(server.port);
        const measured = await ask(state, p, { type: 'measure', mode }, 'measured');
        const after = await commandsProcessed(server.port);
        if (measured !== undefined) (redisCommands[mode] ??= []).push((after - before - 1) / measured.calls);
      }
    }
  }
  /** @type {Array<{ label: string, report: any }>} */
  const reports = [];
  for (const p of [...state.live]) {
    const finished = await ask(state, p, { type: 'finish' }, 'finished');
    if (finished !== undefined) reports.push({ label: p.label, report: finished.report });
  }
  await Promise.all(processes.map((p) => p.end()));
  return { reports, redisCommands, crashed: state.crashed };
}

async function main() {
  const startedAt = Date.now();
  const { values } = parseArgs({
    options: {
      processes: { type: 'string', default: '2' },
      rounds: { type: 'string', default: '7' },
      'sample-ms': { type: 'string', default: '100' },
      'warmup-ms': { type: 'string', default: '500' },
      keys: { type: 'string', default: '10000' },
      batch: { type: 'string', default: '64' },
      'l2-processes': { type: 'string', default: '2' },
      'l2-keys': { type: 'string', default: '1000' },
      'l2-sample-calls': { type: 'string', default: '2000' },
      contenders: { type: 'string', default: CONTENDER_NAMES.join(',') },
      'skip-l1': { type: 'boolean', default: false },
      'skip-l2': { type: 'boolean', default: false },
      report: { type: 'string', default: path.join(ROOT, 'build/bench/service-report.json') },
    },
  });
  const contenders = String(values.contenders).split(',');
  contenders.forEach(checkContender);
  const settings = {
    contenders,
    processes: positiveInteger('processes', values.processes),
    rounds: positiveInteger('rounds', values.rounds),
    sampleMs: positiveInteger('sample-ms', values['sample-ms']),
    warmupMs: positiveInteger('warmup-ms', values['warmup-ms']),
    keys: positiveInteger('keys', values.keys),
    batch: positiveInteger('batch', values.batch),
    l2Processes: positiveInteger('l2-processes', values['l2-processes']),
    l2Keys: positiveInteger('l2-keys', values['l2-keys']),
    l2SampleCalls: positiveInteger('l2-sample-calls', values['l2-sample-calls']),
    ttlMs: TTL_MS,
  };
  const progress = (/** @type {string} */ line) => process.stderr.write(`bench-service: ${line}\n`);
  const host = machine();
  const loadBefore = os.loadavg();
  /** @type {string[]} */
  const out = [];
  const print = (/** @type {string} */ line = '') => out.push(line);
  /** @type {Record<string, string>} */
  const failures = {};
  const versions = peerVersions();

  const server = await startRedisServer();
  /** @type {any} */
  const report = {
    generatedAt: new Date(startedAt).toISOString(),
    machine: { ...host, loadAverageBefore: loadBefore },
    versions: { ...versions, redisServer: 'unknown' },
    settings,
    l1Hit: null,
    l2Hit: null,
    goals: [],
  };
  try {
    report.versions.redisServer = await redisVersion(server.port);
    print(`tickcache service-layer benchmarks, ${report.generatedAt}`);
    print(
      `machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.os}; Node ${host.node}; redis-server ${report.versions.redisServer} on loopback; ` +
        `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
    );
    print(
      `peers: bentocache ${versions.bentocache}, cacheable ${versions.cacheable}, cache-manager ${versions['cache-manager']} ` +
        `(keyv ${versions.keyv}, @keyv/redis ${versions['@keyv/redis']} on @redis/client ${versions['@redis/client']}); ioredis ${versions.ioredis}`,
    );
    if (!values['skip-l1']) l1Part(await measureL1(server, settings, progress), settings, report, print, failures);
    if (!values['skip-l2']) {
      const l2Settings = { processes: settings.l2Processes, rounds: settings.rounds, keys: settings.l2Keys, sampleCalls: settings.l2SampleCalls };
      l2Part(await measureL2(server, l2Settings, progress), l2Settings, report, print, failures);
    }
  } finally {
    await server.stop();
  }

  print();
  for (const g of report.goals) print(`GOAL ${g.verdict.padEnd(4)} ${g.text}: ${formatRatio(g.measured)}${g.note ? ` (${g.note})` : ''}`);
  const loadAfter = os.loadavg();
  report.machine.loadAverageAfter = loadAfter;
  report.failures = failures;
  report.seconds = (Date.now() - startedAt) / 1000;
  for (const [what, why] of Object.entries(failures)) print(`CRASHED ${what}: ${firstErrorLine(why)}`);
  print(
    `load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (other jobs on these ${host.cores} cores slow every contender alike: rounds are interleaved); ${report.seconds.toFixed(0)} s`,
  );
  const reportFile = path.resolve(String(values.report));
  mkdirSync(path.dirname(reportFile), { recursive: true });
  writeFileSync(reportFile, JSON.stringify(report, null, 2) + '\n');
  print(`report: ${path.relative(process.cwd(), reportFile) || reportFile}`);
  process.stdout.write(out.join('\n') + '\n');
  process.exitCode = Object.keys(failures).length > 0 ? 1 : 0;
}

/**
 * @param {Awaited<ReturnType<typeof measureL1>>} measured
 * @param {{ contenders: string[], processes: number, rounds: number, sampleMs: number, warmupMs: number, keys: number, batch: number }} settings
 * @param {any} report @param {(line?: string) => void} print @param {Record<string, string>} failures
 */
function l1Part(measured, settings, report, print, failures) {
  Object.assign(failures, measured.crashed);
  /** @type {Record<string, any[]>} contender + mode -> the results of its processes */
  const byRun = {};
  for (const { report: child } of measured.reports) {
    for (const result of child.results) (byRun[`${child.contender} ${result.mode}`] ??= []).push(result);
  }
  const samples = (/** @type {string} */ c, /** @type {string} */ mode) => (byRun[`${c} ${mode}`] ?? []).flatMap((r) => r.samplesNs);
  const nsOf = (/** @type {string} */ c, /** @type {string} */ mode) => median(samples(c, mode));
  const rows = [['mode  contender', 'call', 'ns/call', 'calls/s', 'process medians', `vs ${BASELINE}`, 'vs bentocache raw', 'loader calls', 'Redis cmds', 'L1 hits']];
  /** @type {any[]} */
  const figures = [];
  for (const mode of L1_MODES) {
    for (const c of settings.contenders) {
      const results = byRun[`${c} ${mode}`] ?? [];
      const ns = nsOf(c, mode);
      const calls = results.reduce((sum, r) => sum + r.calls, 0);
      const loaderCalls = results.reduce((sum, r) => sum + r.loaderCalls, 0);
      const answered = results.reduce((sum, r) => sum + r.answered, 0);
      const redis = measured.redisCommands[`${c} ${mode}`] ?? [];
      const redisTotal = redis.reduce((sum, n) => sum + n, 0);
      const l1Hits = c === 'tickcache' ? results.reduce((sum, r) => sum + (r.l1Hits ?? 0), 0) : null;
      // L1 answered every call: no loader call, no Redis command, an answer for each (tickcache: its L1 hit count agrees).
      const allL1 = results.length > 0 && loaderCalls === 0 && redisTotal === 0 && answered === calls && (l1Hits === null || l1Hits === calls);
      const vsBaseline = nsOf(BASELINE, mode) / ns; // throughput ratio: > 1 is faster
      const vsRaw = nsOf('bentocache-raw', mode) / ns;
      const medians = results.map((r) => r.medianNs);
      rows.push([
        `${mode.padEnd(5)} ${CONTENDERS[c].label}`,
        CONTENDERS[c].call,
        results.length ? formatNs(ns) : 'failed',
        results.length ? Math.round(1e9 / ns).toLocaleString('en') : '',
        results.length ? `${formatNs(Math.min(...medians))}-${formatNs(Math.max(...medians))}` : '',
        formatRatio(vsBaseline),
        formatRatio(vsRaw),
        String(loaderCalls),
        String(redisTotal),
        l1Hits === null ? (allL1 ? 'all (no loads, no Redis)' : 'NOT ALL') : `${l1Hits}/${calls}${allL1 ? '' : ' NOT ALL'}`,
      ]);
      figures.push({
        mode,
        contender: c,
        label: CONTENDERS[c].label,
        call: CONTENDERS[c].call,
        nsPerCall: ns,
        callsPerSecond: 1e9 / ns,
        throughputVsBentocache: vsBaseline,
        throughputVsBentocacheRaw: vsRaw,
        p25: quantile(samples(c, mode), 0.25),
        p75: quantile(samples(c, mode), 0.75),
        processMedians: medians,
        samplesNs: samples(c, mode),
        callsMeasured: calls,
        answered,
        loaderCalls,
        redisCommandsDuringRounds: redis,
        tickcacheL1Hits: l1Hits,
        allAnsweredByL1: allL1,
      });
    }
  }
  report.l1Hit = {
    method:
      'ns per call, median of all rounds of all processes of a contender; each contender in processes of its own, rounds interleaved in time in rotating order; seq: one call at a time, each awaited; batch: `batch` calls started in one tick, awaited with Promise.all; calls/s = 1e9 / ns per call (one process, one event loop)',
    keys: settings.keys,
    batch: settings.batch,
    figures,
  };
  print();
  print(
    `L1 HIT: getOrSet/wrap answered by the in-memory L1 (Redis L2 behind it); ${settings.keys.toLocaleString('en')} keys pre-loaded through each contender's own call, ` +
      `uniform random lookups, quote values (~100 JSON bytes); median of ${settings.processes} processes x ${settings.rounds} rounds of ~${settings.sampleMs} ms after ${settings.warmupMs} ms warm-up`,
  );
  print(`  seq: each call awaited before the next; batch: ${settings.batch} calls started in one tick, then Promise.all; vs = calls/s over the other's (higher is faster)`);
  print(`  proof of L1 hits: loader calls and Redis commands processed during the measured rounds (INFO stats) are 0; tickcache's own L1 hit counter`);
  print(table(rows));

  for (const mode of L1_MODES) {
    const f = figures.find((x) => x.contender === 'tickcache' && x.mode === mode);
    const ratio = f?.throughputVsBentocache ?? NaN;
    const valid = f === undefined || f.allAnsweredByL1;
    report.goals.push(
      goal(`l1-hit-${mode}`, `L1-hit getOrSet (${mode}) >= ${L1_GOAL}x bentocache's calls/s`, ratio, L1_GOAL, 'min', valid, {
        note: `vs bentocache with serialize: false: ${formatRatio(f?.throughputVsBentocacheRaw ?? NaN)}`,
      }),
    );
  }
}

/**
 * @param {Awaited<ReturnType<typeof measureL2>>} measured
 * @param {{ processes: number, rounds: number, keys: number, sampleCalls: number }} settings
 * @param {any} report @param {(line?: string) => void} print @param {Record<string, string>} failures
 */
function l2Part(measured, settings, report, print, failures) {
  Object.assign(failures, measured.crashed);
  /** @type {Record<string, any[]>} */
  const byMode = {};
  for (const { report: child } of measured.reports) for (const result of child.results) (byMode[result.mode] ??= []).push(result);
  const latencies = (/** @type {string} */ mode) => (byMode[mode] ?? []).flatMap((r) => r.latenciesNs);
  const mean = (/** @type {number[]} */ xs) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
  const stat = (/** @type {string} */ mode) => {
    const all = latencies(mode);
    return { p50: quantile(all, 0.5), mean: mean(all), p99: quantile(all, 0.99), roundMedians: (byMode[mode] ?? []).flatMap((r) => r.roundMediansNs) };
  };
  const raw = stat('raw-get');
  const us = (/** @type {number} */ ns) => (Number.isFinite(ns) ? (ns / 1000).toFixed(1) : '-');
  const rows = [['call', 'p50 us', 'mean us', 'p99 us', 'round medians us', 'p50 vs GET', 'mean vs GET', 'calls', 'Redis cmds/call', 'proof']];
  /** @type {any[]} */
  const figures = [];
  let valid = true;
  for (const mode of L2_MODES) {
    const results = byMode[mode] ?? [];
    const s = stat(mode);
    const calls = results.reduce((sum, r) => sum + r.calls, 0);
    const answered = results.reduce((sum, r) => sum + r.answered, 0);
    const loaderCalls = results.reduce((sum, r) => sum + r.loaderCalls, 0);
    const l2Hits = results.reduce((sum, r) => sum + (r.l2Hits ?? 0), 0);
    const l1Misses = results.reduce((sum, r) => sum + (r.l1Misses ?? 0), 0);
    const perCall = measured.redisCommands[mode] ?? [];
    const commandsPerCall = perCall.length ? Math.max(...perCall) : NaN;
    // One GET per call, nothing more (a lock, a second read, a write would show here).
    const ok =
      results.length > 0 && answered === calls && loaderCalls === 0 && commandsPerCall === 1 && (mode !== 'tickcache' || (l2Hits === calls && l1Misses === calls));
    if (!ok) valid = false;
    const label = mode === 'tickcache' ? 'tickcache getOrSet, L1 deleted first' : 'raw ioredis getBuffer';
    rows.push([
      label,
      us(s.p50),
      us(s.mean),
      us(s.p99),
      s.roundMedians.length ? `${us(Math.min(...s.roundMedians))}-${us(Math.max(...s.roundMedians))}` : '',
      formatRatio(s.p50 / raw.p50),
      formatRatio(s.mean / raw.mean),
      String(calls),
      perCall.length ? `${Math.min(...perCall).toFixed(2)}-${commandsPerCall.toFixed(2)}` : '-',
      mode === 'tickcache' ? `L2 hits ${l2Hits}, L1 misses ${l1Misses}, loads ${loaderCalls}${ok ? '' : ' WRONG PATH'}` : `bytes ${answered}/${calls}${ok ? '' : ' MISSING'}`,
    ]);
    figures.push({
      mode,
      label,
      p50Ns: s.p50,
      meanNs: s.mean,
      p99Ns: s.p99,
      p50VsRawGet: s.p50 / raw.p50,
      meanVsRawGet: s.mean / raw.mean,
      roundMediansNs: s.roundMedians,
      calls,
      answered,
      loaderCalls,
      l2Hits: mode === 'tickcache' ? l2Hits : null,
      l1Misses: mode === 'tickcache' ? l1Misses : null,
      redisCommandsPerCallByRound: perCall,
      tookTheMeasuredPath: ok,
    });
  }
  const storedBytes = measured.reports[0]?.report.storedBytes ?? null;
  report.l2Hit = {
    method:
      'per-call latency, each call awaited before the next; tickcache: tiered.l1.delete(key) untimed before each getOrSet; raw: getBuffer of the Redis key tickcache stored, on an ioredis connection opened with the same settings (URL, enableOfflineQueue: false); both in the same processes, in alternating rounds (rotating order); p50/mean/p99 over every call of every process',
    keys: settings.keys,
    storedBytes,
    tickcacheOwnL2Latency: measured.reports.map((r) => r.report.tickcacheL2Latency),
    figures,
  };
  print();
  print(
    `L2 HIT: one call at a time; ${settings.keys.toLocaleString('en')} keys in Redis (${storedBytes ?? '?'} bytes stored per value: envelope + JSON); ` +
      `${settings.processes} processes x ${settings.rounds} rounds x ${settings.sampleCalls.toLocaleString('en')} calls per mode`,
  );
  print(table(rows));
  const t = figures.find((f) => f.mode === 'tickcache');
  report.goals.push(goal('l2-hit-p50', `L2-hit getOrSet p50 <= ${L2_GOAL}x a raw GET's`, t?.p50VsRawGet ?? NaN, L2_GOAL, 'max', valid));
  report.goals.push(goal('l2-hit-mean', `L2-hit getOrSet mean <= ${L2_GOAL}x a raw GET's`, t?.meanVsRawGet ?? NaN, L2_GOAL, 'max', valid));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
