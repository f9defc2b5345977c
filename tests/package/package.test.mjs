// tests/package/package.test.mjs: "One import" (issue 3) as a user gets it: the repo is packed
// with `npm pack`, the tarball is installed into fresh projects outside the repo, and every check
// runs there in its own node process (the backend is chosen once per process, and the
// environment is part of the choice).
//
// Invariants: nothing resolves 'tickcache' from the repo (each probe checks where its import
// came from); the installed copy is never patched except for the one deliberate deletion in the
// fallback project; temp dirs are removed even when a test fails.
// Needs: dist/ and build/addon/Release/tickcache.node built (scripts/test-package.sh does it).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADDON_IN_PACKAGE = 'build/addon/Release/tickcache.node';
const REPO_TSC = path.join(ROOT, 'node_modules/.bin/tsc');
const CHILD_TIMEOUT_MS = 120_000;

/** Runs a command; never throws on a non-zero exit (callers assert on the result). */
function run(file, args, { cwd, env = {} } = {}) {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env: childEnv(env), timeout: CHILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ status, stdout, stderr, signal: error?.signal ?? null });
      },
    );
  });
}

/** The environment of a child: none of ours that could steer the backend or module resolution. */
function childEnv(extra) {
  const env = { ...process.env };
  for (const name of ['TICKCACHE_BACKEND', 'NODE_PATH', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT']) {
    delete env[name];
  }
  return { ...env, ...extra };
}

function describeRun(result) {
  return `exit ${result.status}${result.signal ? ` (${result.signal})` : ''}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

// A probe is a snippet run by node inside a consumer project. It reports one JSON line; `attempt`
// turns a throw or a rejection into data so the test, not the probe, decides what is right.
const PROBE_HELPERS = `
const report = (value) => process.stdout.write('\\nPROBE_RESULT ' + JSON.stringify(value) + '\\n');
const attempt = async (fn) => {
  try {
    const value = await fn();
    return { threw: false, backend: value && value.backend, backendInfo: value && value.backendInfo };
  } catch (error) {
    return { threw: true, name: error && error.name, code: error && error.code, message: String(error && error.message) };
  }
};
`;

/** Runs `body` as an ES module (`esm`) or CommonJS script (`cjs`) in `project`; returns its report. */
async function probe(project, kind, body, env = {}) {
  const source =
    kind === 'esm'
      ? `${PROBE_HELPERS}\n${body}`
      : `${PROBE_HELPERS}\n(async () => {\n${body}\n})().catch((error) => { console.error(error); process.exit(3); });`;
  const args = kind === 'esm' ? ['--input-type=module', '-e', source] : ['-e', source];
  const result = await run(process.execPath, args, { cwd: project, env });
  assert.equal(result.status, 0, `the ${kind} probe failed:\n${describeRun(result)}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('PROBE_RESULT '));
  assert.ok(line, `the ${kind} probe reported nothing:\n${describeRun(result)}`);
  return JSON.parse(line.slice('PROBE_RESULT '.length));
}

// What every import probe reports: where 'tickcache' resolved to, and a small round trip.
const ESM_IMPORT = `
import * as tickcache from 'tickcache';
const resolved = import.meta.resolve('tickcache');
`;
const CJS_IMPORT = `
const tickcache = require('tickcache');
const resolved = require('node:url').pathToFileURL(require.resolve('tickcache')).href;
`;
const ROUND_TRIP = `
const cache = await tickcache.createCache({ maxEntries: 100 });
const value = { symbol: 'AAPL', bid: 189.5 };
cache.set('q:AAPL', value, { ttl: '5m', tags: ['us'] });
const back = cache.get('q:AAPL');
report({
  resolved,
  backend: cache.backend,
  statsBackend: cache.stats().backend,
  backendInfo: cache.backendInfo,
  nativeLoadError: tickcache.nativeLoadError() ?? null,
  sameObject: back === value,
  invalidated: cache.invalidateTag('us'),
  afterInvalidate: cache.get('q:AAPL') ?? null,
});
cache.close();
`;

function importProbe(kind) {
  return (kind === 'esm' ? ESM_IMPORT : CJS_IMPORT) + ROUND_TRIP;
}

/** Every path the package.json "exports" map can send an importer to. */
function exportTargets(node) {
  if (typeof node === 'string') return [node.replace(/^\.\//, '')];
  return Object.values(node).flatMap(exportTargets);
}

const temp = { root: '', tarball: '', packedFiles: [], consumer: '', fallback: '', installMode: '' };

// Node TypeScript users have @types/node (the tiered layer's types reach ioredis's, which need
// it); the repo's pinned version is in the npm cache, so this stays offline.
const TYPES_NODE = `@types/node@${JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')).version}`;

async function installProject(name, extraPackages = []) {
  const project = path.join(temp.root, name);
  await mkdir(project);
  // "type": "module": a .ts consumer is ESM under NodeNext, a .cts one is CommonJS.
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: `tickcache-${name}`, version: '1.0.0', private: true, type: 'module' }, null, 2),
  );
  const common = ['install', '--no-audit', '--no-fund', '--no-package-lock', temp.tarball, ...extraPackages];
  let result = await run('npm', [...common, '--offline'], { cwd: project });
  temp.installMode = '--offline';
  if (result.status !== 0) {
    result = await run('npm', [...common, '--prefer-offline'], { cwd: project });
    temp.installMode = '--prefer-offline (--offline failed)';
  }
  assert.equal(result.status, 0, `npm install of the tarball failed:\n${describeRun(result)}`);
  return project;
}

before(async () => {
  for (const needed of ['dist/esm/index.js', 'dist/cjs/index.cjs', ADDON_IN_PACKAGE]) {
    assert.ok(existsSync(path.join(ROOT, needed)), `${needed} is missing: run scripts/test-package.sh`);
  }
  temp.root = await mkdtemp(path.join(tmpdir(), 'tickcache-package-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', temp.root], { cwd: ROOT });
  assert.equal(packed.status, 0, `npm pack failed:\n${describeRun(packed)}`);
  const [summary] = JSON.parse(packed.stdout);
  temp.tarball = path.join(temp.root, summary.filename);
  temp.packedFiles = summary.files.map((f) => f.path);
  temp.consumer = await installProject('consumer', [TYPES_NODE]);
  temp.fallback = await installProject('fallback');
  // The fallback project is a user whose addon cannot load: the file is gone.
  await rm(path.join(temp.fallback, 'node_modules/tickcache', ADDON_IN_PACKAGE));
});

after(async () => {
  if (temp.root) await rm(temp.root, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  test('holds every file the exports map, main, module and types name, the addon and the wasm glue', async (t) => {
    t.diagnostic(`installed with npm install ${temp.installMode}`);
    const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
    const named = [
      ...exportTargets(manifest.exports),
      manifest.main,
      manifest.module,
      manifest.types,
      ADDON_IN_PACKAGE,
      'dist/wasm/core_cache.mjs',
      'dist/wasm/tickcache_wasm.cjs',
    ].map((p) => p.replace(/^\.\//, ''));
    const missing = named.filter((p) => !temp.packedFiles.includes(p));
    assert.deepEqual(missing, [], `named by package.json or needed at run time, but not packed`);
  });

  test('holds nothing but the builds, package.json and docs (no sources, no build trees)', () => {
    const allowed = (p) =>
      p.startsWith('dist/') || p === ADDON_IN_PACKAGE || p === 'package.json' || /^(README|LICENSE)/i.test(p);
    assert.deepEqual(temp.packedFiles.filter((p) => !allowed(p)), []);
  });
});

describe('ESM: import { createCache } from "tickcache"', () => {
  test('resolves to the installed dist/esm and runs on the native addon', async () => {
    const r = await probe(temp.consumer, 'esm', importProbe('esm'));
    const installed = pathToFileURL(path.join(temp.consumer, 'node_modules/tickcache/')).href;
    assert.equal(r.resolved, `${installed}dist/esm/index.js`);
    assert.equal(r.backend, 'native');
    assert.equal(r.statsBackend, 'native');
    assert.deepEqual(r.backendInfo, { backend: 'native' });
    assert.equal(r.nativeLoadError, null);
    assert.equal(r.sameObject, true, 'object mode keeps the value by reference');
    assert.equal(r.invalidated, 1);
    assert.equal(r.afterInvalidate, null);
  });
});

describe('CommonJS: const { createCache } = require("tickcache")', () => {
  test('resolves to the installed dist/cjs and runs on the native addon', async () => {
    const r = await probe(temp.consumer, 'cjs', importProbe('cjs'));
    const installed = pathToFileURL(path.join(temp.consumer, 'node_modules/tickcache/')).href;
    assert.equal(r.resolved, `${installed}dist/cjs/index.cjs`);
    assert.equal(r.backend, 'native');
    assert.equal(r.statsBackend, 'native');
    assert.deepEqual(r.backendInfo, { backend: 'native' });
    assert.equal(r.nativeLoadError, null);
    assert.equal(r.sameObject, true);
    assert.equal(r.invalidated, 1);
    assert.equal(r.afterInvalidate, null);
  });
});

// Consumer sources for the TypeScript check. Lines marked `// expect TSnnnn` must be reported with
// that code, and nothing else may be: the good files compile, the bad ones fail where marked.
const TS_SOURCES = {
  'esm-consumer.ts': `
import { createCache, createCacheSync, nativeLoadError, TickcacheError } from 'tickcache';
import type { BackendName, Cache, CacheEntry, CacheOptions, ErrorCode } from 'tickcache';

interface Quote { symbol: string; bid: number }
const options: CacheOptions = { maxEntries: 100, mode: 'object', defaultTtl: '5m' };
const cache: Cache<Quote> = await createCache<Quote>(options);
cache.set('q:AAPL', { symbol: 'AAPL', bid: 189.5 }, { ttl: 1000, grace: '1s', tags: ['us'] });
const quote: Quote | undefined = cache.get('q:AAPL');
const entry: CacheEntry<Quote> | undefined = cache.getEntry('q:AAPL');
const backend: BackendName = cache.backend;
const why: string | undefined = nativeLoadError();
try {
  createCacheSync<Quote>({ maxEntries: 1 }).close();
} catch (error) {
  if (error instanceof TickcacheError) {
    const code: ErrorCode = error.code;
    console.log(code);
  }
}
console.log(quote?.bid, entry?.state, backend, why);
`,
  'cjs-consumer.cts': `
import tickcache = require('tickcache');
import type { Cache } from 'tickcache';

async function main(): Promise<void> {
  const cache: Cache<Uint8Array> = await tickcache.createCache<Uint8Array>({ maxBytes: 1 << 20, mode: 'bytes' });
  cache.set('raw', new Uint8Array([1, 2, 3]), { ttl: '5m' });
  const bytes: Uint8Array | undefined = cache.get('raw');
  const removed: number = cache.invalidatePrefix('r');
  console.log(bytes?.length, removed, cache.backendInfo.nativeError ?? 'native');
}
void main();
`,
  'type-error.ts': `
import { createCache } from 'tickcache';

const cache = await createCache<{ bid: number }>({ maxEntries: 10 });
cache.set(42, { bid: 1 }); // expect TS2345
const bid: string | undefined = cache.get('k')?.bid; // expect TS2322
await createCache({ maxEntries: 'ten' }); // expect TS2322
`,
  'type-error.cts': `
import tickcache = require('tickcache');

void tickcache.createCache({ mode: 'text' }); // expect TS2322
const backend: 'node' = tickcache.createCacheSync({ maxEntries: 1 }).backend; // expect TS2322
console.log(backend);
`,
};

// A browser app's sources: bundler resolution with the "browser" condition, DOM lib, no Node types.
const BROWSER_TS_SOURCES = {
  'browser-consumer.ts': `
import { createCache, nativeLoadError } from 'tickcache';
import type { Cache } from 'tickcache';

const cache: Cache<number[]> = await createCache<number[]>({ maxEntries: 10, defaultTtl: '1m' });
cache.set('ticks', [1, 2, 3]);
const why: string = nativeLoadError();
document.title = String(cache.get('ticks')?.length) + why;
`,
  'browser-type-error.ts': `
import { createCache } from 'tickcache';

const cache = await createCache<number[]>({ maxEntries: 10 });
cache.set('ticks', 'not an array'); // expect TS2345
`,
};

/**
 * Writes `sources` and a strict noEmit tsconfig into `dir`, runs the repo's tsc there and returns
 * the errors it reported ("file:line:TSnnnn"), the ones the `// expect` marks ask for, and the
 * declaration files it read.
 */
async function typecheck(dir, sources, compilerOptions) {
  await mkdir(dir);
  const expected = [];
  for (const [name, text] of Object.entries(sources)) {
    await writeFile(path.join(dir, name), text.trimStart());
    text.trimStart().split('\n').forEach((line, index) => {
      const mark = /\/\/ expect (TS\d+)/.exec(line);
      if (mark) expected.push(`${name}:${index + 1}:${mark[1]}`);
    });
  }
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      strict: true,
      noEmit: true,
      // No skipLibCheck: the packed declarations must type-check too.
      skipLibCheck: false,
      ...compilerOptions,
    },
    files: Object.keys(sources),
  };
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const result = await run(REPO_TSC, ['-p', 'tsconfig.json', '--pretty', 'false', '--listFiles'], { cwd: dir });
  const output = result.stdout + result.stderr;
  const reported = [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+):/gm)].map(
    (m) => `${path.basename(m[1])}:${m[2]}:${m[3]}`,
  );
  const installed = path.join(realpathSync(temp.consumer), 'node_modules/tickcache');
  const read = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(`${installed}/`))
    .map((line) => line.slice(installed.length + 1));
  return { status: result.status, output, reported: reported.sort(), expected: expected.sort(), read };
}

describe('TypeScript: the packed types, read by the repo\'s tsc (strict, no skipLibCheck)', () => {
  test('NodeNext: ESM (.ts) and CommonJS (.cts) consumers compile; deliberate type errors are reported', async () => {
    const r = await typecheck(path.join(temp.consumer, 'ts-node'), TS_SOURCES, {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      lib: ['ES2022'],
    });
    assert.deepEqual(r.reported, r.expected, `tsc reported other errors than expected:\n${r.output}`);
    assert.notEqual(r.status, 0, 'tsc must fail on the deliberate errors');
    // The ESM files read the "import" declarations and the .cts files the "require" ones.
    for (const decl of ['dist/esm/index.d.ts', 'dist/cjs/index.d.cts']) {
      assert.ok(r.read.includes(decl), `tsc did not read ${decl}; it read:\n${r.read.join('\n')}`);
    }
  });

  test('bundler + "browser" condition: a web app compiles without @types/node and reads browser.d.ts', async () => {
    const r = await typecheck(path.join(temp.consumer, 'ts-browser'), BROWSER_TS_SOURCES, {
      module: 'ESNext',
      moduleResolution: 'Bundler',
      customConditions: ['browser'],
      types: [],
      lib: ['ES2022', 'DOM'],
    });
    assert.deepEqual(r.reported, r.expected, `tsc reported other errors than expected:\n${r.output}`);
    assert.notEqual(r.status, 0, 'tsc must fail on the deliberate error');
    assert.ok(r.read.includes('dist/esm/browser.d.ts'), `tsc did not read browser.d.ts; it read:\n${r.read.join('\n')}`);
    assert.ok(!r.read.includes('dist/esm/index.d.ts'), 'the browser consumer got the Node entry\'s types');
  });
});

describe('fallback to wasm when the addon cannot load', () => {
  for (const kind of ['esm', 'cjs']) {
    test(`${kind}: createCache runs on wasm and says why the addon did not load`, async () => {
      const r = await probe(temp.fallback, kind, importProbe(kind));
      assert.match(r.resolved, /\/node_modules\/tickcache\/dist\/(esm|cjs)\/index\.c?js$/);
      assert.ok(r.resolved.startsWith(pathToFileURL(temp.fallback).href + '/'), r.resolved);
      assert.equal(r.backend, 'wasm');
      assert.equal(r.statsBackend, 'wasm');
      assert.equal(typeof r.backendInfo.nativeError, 'string');
      assert.match(r.backendInfo.nativeError, /tickcache\.node/, 'the reason names the missing file');
      assert.equal(r.nativeLoadError, r.backendInfo.nativeError);
      assert.equal(r.sameObject, true, 'object mode on wasm keeps references too');
      assert.equal(r.invalidated, 1);
      assert.equal(r.afterInvalidate, null);
    });
  }

  for (const kind of ['esm', 'cjs']) {
    test(`${kind}: TICKCACHE_BACKEND=native (or backend: 'native') throws backend_unavailable naming the file`, async () => {
      const body = `${kind === 'esm' ? ESM_IMPORT : CJS_IMPORT}
        report({
          env: await attempt(() => tickcache.createCache({ maxEntries: 10 })),
          envSync: await attempt(() => tickcache.createCacheSync({ maxEntries: 10 })),
        });`;
      const r = await probe(temp.fallback, kind, body, { TICKCACHE_BACKEND: 'native' });
      const viaOption = await probe(
        temp.fallback,
        kind,
        `${kind === 'esm' ? ESM_IMPORT : CJS_IMPORT}
        report({ option: await attempt(() => tickcache.createCache({ maxEntries: 10, backend: 'native' })) });`,
      );
      for (const outcome of [r.env, r.envSync, viaOption.option]) {
        assert.equal(outcome.threw, true, JSON.stringify(outcome));
        assert.equal(outcome.name, 'TickcacheError');
        assert.equal(outcome.code, 'backend_unavailable');
        assert.match(outcome.message, /tickcache\.node/);
      }
    });
  }
});

describe('TICKCACHE_BACKEND', () => {
  for (const kind of ['esm', 'cjs']) {
    test(`${kind}: =wasm runs on wasm although the addon is there`, async () => {
      const r = await probe(temp.consumer, kind, importProbe(kind), { TICKCACHE_BACKEND: 'wasm' });
      assert.equal(r.backend, 'wasm');
      assert.equal(r.statsBackend, 'wasm');
      assert.equal(r.sameObject, true);
      assert.equal(r.invalidated, 1);
    });
  }

  for (const bad of ['Native', 'wsm', 'native,wasm']) {
    test(`a bad value ${JSON.stringify(bad)} is an invalid_option naming the value (ESM and CommonJS)`, async () => {
      for (const kind of ['esm', 'cjs']) {
        const body = `${kind === 'esm' ? ESM_IMPORT : CJS_IMPORT}
          report({
            async: await attempt(() => tickcache.createCache({ maxEntries: 10 })),
            sync: await attempt(() => tickcache.createCacheSync({ maxEntries: 10 })),
          });`;
        const r = await probe(temp.consumer, kind, body, { TICKCACHE_BACKEND: bad });
        for (const outcome of [r.async, r.sync]) {
          assert.equal(outcome.threw, true, `${kind}: ${JSON.stringify(outcome)}`);
          assert.equal(outcome.code, 'invalid_option');
          assert.ok(outcome.message.includes(JSON.stringify(bad)), outcome.message);
        }
      }
    });
  }
});

describe('createCacheSync', () => {
  for (const kind of ['esm', 'cjs']) {
    test(`${kind}: runs on the native addon without awaiting`, async () => {
      const body = `${kind === 'esm' ? ESM_IMPORT : CJS_IMPORT}
        const cache = tickcache.createCacheSync({ maxEntries: 10, mode: 'bytes' });
        cache.set('k', { n: 1 });
        report({ backend: cache.backend, value: cache.get('k'), size: cache.size });`;
      const r = await probe(temp.consumer, kind, body);
      assert.deepEqual(r, { backend: 'native', value: { n: 1 }, size: 1 });
    });

    test(`${kind}: throws backend_unavailable while only wasm is possible and not loaded, works once it is`, async () => {
      const body = `${kind === 'esm' ? ESM_IMPORT : CJS_IMPORT}
        const before = await attempt(() => tickcache.createCacheSync({ maxEntries: 10 }));
        const loaded = await attempt(() => tickcache.createCache({ maxEntries: 10 }));
        const afterLoad = await attempt(() => tickcache.createCacheSync({ maxEntries: 10 }));
        report({ before, loaded, afterLoad });`;
      const r = await probe(temp.fallback, kind, body);
      assert.equal(r.before.threw, true, JSON.stringify(r.before));
      assert.equal(r.before.code, 'backend_unavailable');
      assert.match(r.before.message, /tickcache\.node/, 'the error says why the addon is unusable');
      assert.equal(r.loaded.backend, 'wasm');
      assert.equal(r.afterLoad.threw, false, JSON.stringify(r.afterLoad));
      assert.equal(r.afterLoad.backend, 'wasm');
    });

    test(`${kind}: TICKCACHE_BACKEND=wasm: throws backend_unavailable until wasm is loaded`, async () => {
      const body = `${kind === 'esm' ? ESM_IMPORT : CJS_IMPORT}
        const before = await attempt(() => tickcache.createCacheSync({ maxEntries: 10 }));
        await tickcache.createCache({ maxEntries: 10 });
        const afterLoad = await attempt(() => tickcache.createCacheSync({ maxEntries: 10 }));
        report({ before, afterLoad });`;
      const r = await probe(temp.consumer, kind, body, { TICKCACHE_BACKEND: 'wasm' });
      assert.equal(r.before.threw, true, JSON.stringify(r.before));
      assert.equal(r.before.code, 'backend_unavailable');
      assert.equal(r.afterLoad.backend, 'wasm');
    });
  }
});
