// @ts-check
// bench/js/run.mjs: the JavaScript benchmark report (scripts/bench-js.sh runs it): throughput of
// tickcache (object and bytes mode, native and wasm) beside lru-cache 11 and a plain Map, and the
// memory 1M quote objects cost; printed as a table of ratios with the goal lines, and written
// with every figure and the machine to build/bench/js-report.json.
//
//   node bench/js/run.mjs [--entries 100000] [--processes 3] [--rounds 7] [--sample-ms 30] [--warmup-ms 200]
//        [--memory-entries 1000000] [--contenders a,b,...] [--skip-memory] [--skip-throughput]
//        [--report build/bench/js-report.json]
//
// How the figures are made fair:
// - Throughput: every contender runs in processes of its own (throughput.mjs), so the JIT of
//   its loops sees one cache class only, and in several (a process's hash seeds and heap layout
//   move its figures). The processes are started together and then measured one at a time,
//   round by round, in a rotating order: load from elsewhere on the machine lands on all of
//   them alike. One more process runs all contenders together through the same
//   loops; its figures, divided by the own-process ones, are the JIT pollution a shared process
//   would cause, printed so the choice of own processes can be checked.
// - Memory: one process per contender (memory.mjs), measured one after another.
// Invariants: a FAIL goal does not change the exit code (the goals are reported); a contender
// that crashes is reported with its error, every other figure is still printed and written,
// and the exit code is then 1.

import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { MeasurementProcess } from '../lib/measurement-process.mjs';
import { CONTENDERS, CONTENDER_NAMES, checkContender } from './contenders.mjs';
import { formatMiB, formatNs, formatRatio, geometricMean, median, quantile, rotated, table } from './stats.mjs';
import { STREAM_LENGTH, ZIPF_S, MIXED_SET_SHARE, makeKey, makeQuote } from './workload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const OPS = /** @type {const} */ (['get-hit', 'set', 'mixed']);
const MEMORY_CONTENDERS = ['lru-cache', 'map', 'native-bytes', 'wasm-bytes', 'native-object'];
const GET_HIT_GOAL = 1.5; // native object-mode get-hit time / lru-cache's, at most
const MEMORY_GOAL = 0.5; // native bytes-mode RSS growth / lru-cache's, at most
const POLLUTION_NOTICEABLE = 1.1; // shared-process / own-process beyond this skews a figure

/** @typedef {{ contender: string, op: string, medianNs: number, samplesNs: number[], sampleOps: number, getHitRate: number | null }} OpResult */
/** @typedef {{ pid: number, failed: Record<string, string>, results: OpResult[] }} ChildReport */

/** A throughput process (throughput.mjs) measuring `contenders`. */
class ThroughputProcess extends MeasurementProcess {
  /** @param {string[]} contenders @param {string[]} args @param {string} label */
  constructor(contenders, args, label) {
    super(path.join(HERE, 'throughput.mjs'), ['--contenders', contenders.join(','), ...args], label);
    this.contenders = contenders;
  }
}

/**
 * @param {{ contenders: string[], processes: number, entries: number, rounds: number, sampleMs: number, warmupMs: number }} settings
 * @param {(line: string) => void} progress
 */
async function measureThroughput(settings, progress) {
  const args = ['--entries', String(settings.entries), '--sample-ms', String(settings.sampleMs), '--warmup-ms', String(settings.warmupMs)];
  // Several processes per contender: V8 seeds its hash tables and lays out its heap afresh in
  // each, and that alone moves a figure by up to a third from one process to the next.
  /** @type {ThroughputProcess[]} */
  const processes = [];
  for (let copy = 1; copy <= settings.processes; copy++) {
    for (const name of settings.contenders) processes.push(new ThroughputProcess([name], args, `${name}#${copy}`));
  }
  if (settings.contenders.length > 1) processes.push(new ThroughputProcess(settings.contenders, args, 'shared'));
  /** @type {Record<string, string>} */
  const crashed = {};
  /** @type {ThroughputProcess[]} */
  let live = [];
  const readies = await Promise.allSettled(processes.map((p) => p.request(null, 'ready')));
  readies.forEach((ready, i) => {
    if (ready.status === 'fulfilled') live.push(processes[i]);
    else crashed[processes[i].label] = String(ready.reason?.message ?? ready.reason);
  });
  // A process that dies mid-run is dropped; the others go on.
  const ask = async (/** @type {ThroughputProcess} */ p, /** @type {object} */ message, /** @type {string} */ expect) => {
    try {
      return await p.request(message, expect);
    } catch (error) {
      crashed[p.label] = error instanceof Error ? error.message : String(error);
      live = live.filter((other) => other !== p);
      return undefined;
    }
  };
  for (const op of OPS) {
    progress(`throughput: ${op}: warming up ${live.length} processes`);
    for (const p of [...live]) await ask(p, { type: 'warmup', op }, 'warmed');
    progress(`throughput: ${op}: ${settings.rounds} rounds`);
    for (let round = 0; round < settings.rounds; round++) {
      for (const p of rotated([...live], round)) await ask(p, { type: 'measure', op, round }, 'measured');
    }
  }
  /** @type {Map<ThroughputProcess, ChildReport>} */
  const reports = new Map();
  for (const p of [...live]) {
    const finished = await ask(p, { type: 'finish' }, 'finished');
    if (finished !== undefined) reports.set(p, /** @type {any} */ (finished).report);
  }
  await Promise.all(processes.map((p) => (p.exited ? undefined : Promise.race([p.exit, delay(5000)]))));
  for (const p of processes) if (!p.exited) p.child.kill();
  return { processes, reports, crashed };
}

function delay(/** @type {number} */ ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** @param {string} contender @param {number} entries */
function measureMemory(contender, entries) {
  return new Promise((resolve) => {
    const child = fork(path.join(HERE, 'memory.mjs'), ['--contender', contender, '--entries', String(entries)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    child.on('exit', (code, signal) => {
      if (code === 0) {
        try {
          resolve({ ok: true, result: JSON.parse(stdout) });
          return;
        } catch (error) {
          stderr += `\nunreadable output: ${stdout.slice(0, 200)}`;
        }
      }
      resolve({ ok: false, error: `exited (${String(signal ?? code)}): ${stderr.trim()}` });
    });
  });
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

function lruCacheVersion() {
  try {
    const text = readFileSync(path.join(ROOT, 'node_modules/lru-cache/package.json'), 'utf8');
    return /** @type {{ version: string }} */ (JSON.parse(text)).version;
  } catch {
    return 'unknown';
  }
}

/** Sample JSON sizes of the quotes the benchmarks store. */
function valueBytes() {
  const sizes = [];
  for (let id = 0; id < 10000; id++) sizes.push(JSON.stringify(makeQuote(id)).length);
  return { min: Math.min(...sizes), mean: sizes.reduce((a, b) => a + b, 0) / sizes.length, max: Math.max(...sizes) };
}

async function main() {
  const startedAt = Date.now();
  const { values } = parseArgs({
    options: {
      entries: { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '7' },
      processes: { type: 'string', default: '3' },
      'sample-ms': { type: 'string', default: '30' },
      'warmup-ms': { type: 'string', default: '200' },
      'memory-entries': { type: 'string', default: '1000000' },
      contenders: { type: 'string', default: CONTENDER_NAMES.join(',') },
      'skip-memory': { type: 'boolean', default: false },
      'skip-throughput': { type: 'boolean', default: false },
      report: { type: 'string', default: path.join(ROOT, 'build/bench/js-report.json') },
    },
  });
  const contenders = String(values.contenders).split(',');
  contenders.forEach(checkContender);
  const settings = {
    contenders,
    entries: positiveInteger('entries', values.entries),
    rounds: positiveInteger('rounds', values.rounds),
    processes: positiveInteger('processes', values.processes),
    sampleMs: positiveInteger('sample-ms', values['sample-ms']),
    warmupMs: positiveInteger('warmup-ms', values['warmup-ms']),
    memoryEntries: positiveInteger('memory-entries', values['memory-entries']),
  };
  const progress = (/** @type {string} */ line) => process.stderr.write(`bench-js: ${line}\n`);
  const host = machine();
  const loadBefore = os.loadavg();
  /** @type {string[]} */
  const out = [];
  const print = (/** @type {string} */ line = '') => out.push(line);
  /** @type {Record<string, string>} */
  const failures = {};

  /** @type {any} */
  const report = {
    generatedAt: new Date(startedAt).toISOString(),
    machine: { ...host, loadAverageBefore: loadBefore },
    peers: { lruCache: lruCacheVersion() },
    settings: {
      ...settings,
      keyChars: makeKey(0).length,
      valueJsonBytes: valueBytes(),
      zipfS: ZIPF_S,
      mixedSetShare: MIXED_SET_SHARE,
      streamLength: STREAM_LENGTH,
    },
    throughput: null,
    memory: null,
    goals: [],
  };

  print(`tickcache JavaScript benchmarks, ${report.generatedAt}`);
  print(
    `machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.os}; Node ${host.node} (V8 ${host.v8}); ` +
      `lru-cache ${report.peers.lruCache}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );

  if (!values['skip-throughput']) {
    const { reports, crashed } = await measureThroughput(settings, progress);
    Object.assign(failures, crashed);
    /** @type {Record<string, Record<string, { own: OpResult[], shared?: OpResult }>>} */
    const byContender = {};
    for (const [p, childReport] of reports) {
      const shared = p.label === 'shared';
      for (const [contender, why] of Object.entries(childReport.failed)) {
        failures[`${contender} (${shared ? 'shared process' : `process ${p.label}`})`] = why;
      }
      for (const result of childReport.results) {
        byContender[result.contender] ??= {};
        byContender[result.contender][result.op] ??= { own: [] };
        if (shared) byContender[result.contender][result.op].shared = result;
        else byContender[result.contender][result.op].own.push(result);
      }
    }
    const ownSamples = (/** @type {string} */ c, /** @type {string} */ op) =>
      (byContender[c]?.[op]?.own ?? []).flatMap((result) => result.samplesNs);
    const ownNs = (/** @type {string} */ c, /** @type {string} */ op) => median(ownSamples(c, op));
    const sharedNs = (/** @type {string} */ c, /** @type {string} */ op) => byContender[c]?.[op]?.shared?.medianNs ?? NaN;

    const rows = [
      ['op', 'contender', 'ns/op', 'process medians', 'vs lru-cache', 'vs Map', 'get hit rate', 'shared process', 'vs own'],
    ];
    /** @type {any[]} */
    const figures = [];
    /** @type {number[]} */
    const pollution = [];
    for (const op of OPS) {
      for (const c of contenders) {
        const ownResults = byContender[c]?.[op]?.own ?? [];
        const own = ownResults.length > 0 ? ownResults : undefined;
        const samples = ownSamples(c, op);
        const processMedians = ownResults.map((result) => result.medianNs);
        const shared = byContender[c]?.[op]?.shared;
        const ns = ownNs(c, op);
        const vsLru = ns / ownNs('lru-cache', op);
        const vsMap = ns / ownNs('map', op);
        const sharedVsOwn = sharedNs(c, op) / ns;
        if (Number.isFinite(sharedVsOwn)) pollution.push(sharedVsOwn);
        const hitRates = ownResults.map((result) => result.getHitRate).filter((rate) => rate !== null);
        const hitRate = hitRates.length > 0 ? Math.min(...hitRates) : null;
        const hitText = hitRate === null || hitRate === undefined ? '' : `${(hitRate * 100).toFixed(1)}%`;
        const missedHits = op === 'get-hit' && hitRate !== null && hitRate !== undefined && hitRate < 1;
        rows.push([
          op,
          CONTENDERS[c].label,
          own ? formatNs(ns) : 'failed',
          own ? `${formatNs(Math.min(...processMedians))}-${formatNs(Math.max(...processMedians))}` : '',
          formatRatio(vsLru),
          formatRatio(vsMap),
          missedHits ? `${hitText} MISSES` : hitText,
          formatNs(sharedNs(c, op)),
          formatRatio(sharedVsOwn),
        ]);
        figures.push({
          op,
          contender: c,
          label: CONTENDERS[c].label,
          nsPerOp: ns,
          vsLruCache: vsLru,
          vsMap,
          getHitRate: hitRate,
          p25: quantile(samples, 0.25),
          p75: quantile(samples, 0.75),
          processMedians,
          samplesNs: samples,
          opsPerSample: ownResults.map((result) => result.sampleOps),
          sharedProcess: shared ? { nsPerOp: shared.medianNs, samplesNs: shared.samplesNs, vsOwnProcess: sharedVsOwn } : null,
        });
      }
    }
    const pollutionMean = geometricMean(pollution);
    const pollutionMax = pollution.length ? Math.max(...pollution) : NaN;
    const pollutionMin = pollution.length ? Math.min(...pollution) : NaN;
    const skewed = figures.filter((f) => f.sharedProcess && f.sharedProcess.vsOwnProcess > POLLUTION_NOTICEABLE);
    report.throughput = {
      method:
        'ns per operation, median of all rounds of all own processes; each contender in processes of its own (no JIT pollution), rounds interleaved in time with the other processes in rotating order; "shared process" is all contenders in one process through the same loops',
      figures,
      jitPollution: { geometricMean: pollutionMean, min: pollutionMin, max: pollutionMax, skewedAbove: POLLUTION_NOTICEABLE, skewed: skewed.map((f) => `${f.op} ${f.contender}`) },
    };

    print();
    print(
      `THROUGHPUT: ns per operation, median of ${settings.processes} processes x ${settings.rounds} rounds of ~${settings.sampleMs} ms after ${settings.warmupMs} ms of warm-up; ` +
        `${settings.entries.toLocaleString('en')} entries, ${makeKey(0).length}-char keys, ` +
        `quote values of ${report.settings.valueJsonBytes.min}-${report.settings.valueJsonBytes.max} JSON bytes; keys Zipf(${ZIPF_S})`,
    );
    print(
      `  get-hit: every lookup hits; set: updates of held keys; mixed: ${100 - MIXED_SET_SHARE * 100} % get / ${MIXED_SET_SHARE * 100} % set ` +
        `over ${(2 * settings.entries).toLocaleString('en')} keys with room for ${settings.entries.toLocaleString('en')} (misses included)`,
    );
    print(
      `  each contender in ${settings.processes} processes of its own (their medians shown); "shared process": all of them in one process (its ratio to own = JIT pollution)`,
    );
    print(table(rows));
    print(
      `JIT pollution (shared process / own process): geometric mean ${formatRatio(pollutionMean)}, ` +
        `range ${formatRatio(pollutionMin)}-${formatRatio(pollutionMax)}; ` +
        (skewed.length
          ? `beyond ${POLLUTION_NOTICEABLE}x for ${skewed.map((f) => `${f.op} ${f.contender}`).join(', ')}: a shared process would skew these, so the table uses own-process figures`
          : `no figure beyond ${POLLUTION_NOTICEABLE}x: a shared process would not skew the ratios`),
    );

    const getHitRatio = ownNs('native-object', 'get-hit') / ownNs('lru-cache', 'get-hit');
    report.goals.push(goal('get-hit', `native object-mode get-hit <= ${GET_HIT_GOAL}x lru-cache's time per op`, getHitRatio, GET_HIT_GOAL, {
      moonshot: 'faster than lru-cache',
      moonshotMet: getHitRatio < 1,
    }));
  }

  if (!values['skip-memory']) {
    const memoryContenders = MEMORY_CONTENDERS.filter((c) => contenders.includes(c));
    /** @type {Record<string, any>} */
    const results = {};
    for (const c of memoryContenders) {
      progress(`memory: ${c}, ${settings.memoryEntries.toLocaleString('en')} entries`);
      const measured = /** @type {{ ok: boolean, result?: any, error?: string }} */ (await measureMemory(c, settings.memoryEntries));
      if (measured.ok) results[c] = measured.result;
      else failures[`${c} (memory)`] = String(measured.error);
    }
    const lru = results['lru-cache'];
    const rows = [['contender', 'RSS growth', 'vs lru-cache', 'heap+external growth', 'vs lru-cache', 'RSS B/entry', 'charged (cache.bytes)', 'held', 'fill s']];
    for (const c of memoryContenders) {
      const r = results[c];
      if (!r) {
        rows.push([CONTENDERS[c].label, 'failed', '', '', '', '', '', '', '']);
        continue;
      }
      r.rssVsLruCache = lru ? r.growth.rss / lru.growth.rss : null;
      r.heapPlusExternalVsLruCache = lru ? r.growth.heapPlusExternal / lru.growth.heapPlusExternal : null;
      const heldText = r.held === r.entries && r.verified.mismatches === 0 ? 'all' : `${r.held} (${r.verified.mismatches}/${r.verified.samples} wrong)`;
      rows.push([
        CONTENDERS[c].label,
        formatMiB(r.growth.rss),
        lru ? formatRatio(r.rssVsLruCache) : '-',
        formatMiB(r.growth.heapPlusExternal),
        lru ? formatRatio(r.heapPlusExternalVsLruCache) : '-',
        (r.growth.rss / r.entries).toFixed(0),
        r.chargedBytes === null ? '' : `${formatMiB(r.chargedBytes)} (${(r.chargedBytes / r.held).toFixed(0)} B/entry)`,
        heldText,
        (r.fillMs / 1000).toFixed(1),
      ]);
    }
    report.memory = {
      method:
        'one process per contender (node --expose-gc); readings after full collections before the cache exists and after it holds every entry; heap+external = heapUsed + external (external already includes arrayBuffers); RSS growth is the comparison (native memory shows only there)',
      entries: settings.memoryEntries,
      results,
    };
    print();
    print(
      `MEMORY: ${settings.memoryEntries.toLocaleString('en')} quote objects (${report.settings.valueJsonBytes.mean.toFixed(0)} JSON bytes on average), ` +
        'each contender in its own process, growth between full collections before and after the fill',
    );
    print(table(rows));
    print('  RSS growth is the compared figure: memory the addon allocates natively is invisible to heapUsed/external.');
    const native = results['native-bytes'];
    const memoryRatio = native && lru ? native.growth.rss / lru.growth.rss : NaN;
    report.goals.push(
      goal('memory', `native bytes mode holds ${settings.memoryEntries.toLocaleString('en')} entries in <= ${MEMORY_GOAL}x lru-cache's RSS growth`, memoryRatio, MEMORY_GOAL, {
        heapPlusExternalRatio: native && lru ? native.growth.heapPlusExternal / lru.growth.heapPlusExternal : null,
        chargedBytes: native?.chargedBytes ?? null,
        allHeld: native ? native.held === native.entries && native.verified.mismatches === 0 : false,
      }),
    );
  }

  print();
  for (const g of report.goals) {
    const extra =
      g.id === 'get-hit'
        ? ` (moonshot, faster than lru-cache: ${g.moonshotMet ? 'yes' : 'no'})`
        : g.id === 'memory'
          ? ` (heap+external: ${formatRatio(g.heapPlusExternalRatio)}; tickcache charges ${formatMiB(g.chargedBytes)}${g.allHeld ? '' : '; NOT every entry held'})`
          : '';
    print(`GOAL ${g.verdict.padEnd(4)} ${g.text}: ${formatRatio(g.measured)}${extra}`);
  }
  const loadAfter = os.loadavg();
  report.machine.loadAverageAfter = loadAfter;
  report.failures = failures;
  report.seconds = (Date.now() - startedAt) / 1000;
  for (const [what, why] of Object.entries(failures)) print(`CRASHED ${what}: ${firstErrorLine(why)}`);
  print(
    `load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (other jobs on these ${host.cores} cores inflate absolute times alike for every contender: rounds are interleaved); ${report.seconds.toFixed(0)} s`,
  );

  const reportFile = path.resolve(String(values.report));
  mkdirSync(path.dirname(reportFile), { recursive: true });
  writeFileSync(reportFile, JSON.stringify(report, null, 2) + '\n');
  print(`report: ${path.relative(process.cwd(), reportFile) || reportFile}`);
  process.stdout.write(out.join('\n') + '\n');
  process.exitCode = Object.keys(failures).length > 0 ? 1 : 0;
}

/**
 * @param {string} id @param {string} text @param {number} measured @param {number} limit @param {object} extra
 */
function goal(id, text, measured, limit, extra) {
  const verdict = !Number.isFinite(measured) ? 'N/A' : measured <= limit ? 'PASS' : 'FAIL';
  return { id, text, measured, limit, verdict, ...extra };
}

/** The line of a crash report that says what went wrong (the JSON report keeps all of it). @param {string} text */
function firstErrorLine(text) {
  const lines = text.split('\n').map((line) => line.trim());
  const errorLine = lines.find((line) => /^(\w*Error|TickcacheError)\b/.test(line)) ?? lines.find((line) => line !== '') ?? '';
  const status = /^(exited \([^)]*\))/.exec(text)?.[1];
  const line = status !== undefined && !errorLine.startsWith(status) ? `${status}: ${errorLine}` : errorLine;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** @param {string} name @param {unknown} text */
function positiveInteger(name, text) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${String(text)}`);
  return value;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
