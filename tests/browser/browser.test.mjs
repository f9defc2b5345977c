// tests/browser/browser.test.mjs: "A browser bundle (export condition `browser`) gets wasm"
// (issue 3), in a real browser. esbuild bundles fixture/page.mjs for the browser, resolving
// 'tickcache' through the repo's package.json "exports"; a loopback HTTP server serves the page;
// headless Chromium (puppeteer-core, Debian's /usr/bin/chromium) runs it and reports its
// observations back through page.evaluate, and the assertions are made here.
//
// Invariants: the bundle may not reference Node builtins (a web app's bundler would choke or
// ship dead polyfills); the browser, the server and the temp dir are closed/removed even when a
// test fails. Needs: dist/ built (scripts/test-package.sh does it). Chromium path: override
// with TICKCACHE_CHROMIUM.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import puppeteer from 'puppeteer-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGE_SCRIPT = fileURLToPath(new URL('./fixture/page.mjs', import.meta.url));
const CHROMIUM = process.env.TICKCACHE_CHROMIUM || '/usr/bin/chromium';
// DESIGN.md "Environment facts": what Debian's Chromium needs here (no sandbox as root, no GPU,
// nothing that phones home).
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PAGE_TIMEOUT_MS = 60_000;

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>tickcache browser test</title></head>
<body><script type="module" src="/page.js"></script></body></html>
`;

const state = { outdir: '', bundleError: null, bundleText: '', inputs: [], server: null, browser: null };

before(async () => {
  for (const needed of ['dist/esm/browser.js', 'dist/wasm/core_cache.mjs']) {
    assert.ok(existsSync(path.join(ROOT, needed)), `${needed} is missing: run scripts/test-package.sh`);
  }
  state.outdir = await mkdtemp(path.join(tmpdir(), 'tickcache-browser-'));
  try {
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: { page: PAGE_SCRIPT },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      outdir: state.outdir,
      metafile: true,
      logLevel: 'silent',
    });
    state.inputs = Object.keys(result.metafile.inputs);
    state.bundleText = await readFile(path.join(state.outdir, 'page.js'), 'utf8');
  } catch (error) {
    const details = (error.errors ?? []).map((e) => {
      const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
      return `${where}${e.text}${e.location ? `\n    ${e.location.lineText.slice(Math.max(0, e.location.column - 60), e.location.column + 60)}` : ''}`;
    });
    state.bundleError = details.length ? details.join('\n') : String(error);
  }
});

after(async () => {
  await state.browser?.close().catch(() => {});
  await new Promise((resolve) => (state.server ? state.server.close(resolve) : resolve()));
  if (state.outdir) await rm(state.outdir, { recursive: true, force: true });
});

function requireBundle() {
  if (state.bundleError !== null) assert.fail(`esbuild could not bundle tickcache for the browser:\n${state.bundleError}`);
}

test('esbuild bundles `import { createCache } from "tickcache"` for the browser via the "browser" condition', () => {
  requireBundle();
  assert.ok(
    state.inputs.includes('dist/esm/browser.js'),
    `the bundle did not use the "browser" export (dist/esm/browser.js); inputs:\n${state.inputs.join('\n')}`,
  );
  for (const nodeOnly of ['dist/esm/index.js', 'dist/esm/backend-native.js', 'dist/cjs/index.cjs']) {
    assert.ok(!state.inputs.includes(nodeOnly), `the browser bundle includes the Node-only ${nodeOnly}`);
  }
  assert.ok(
    state.inputs.some((input) => input.startsWith('dist/wasm/')),
    'the wasm glue is not in the bundle',
  );
});

test('the bundle references no Node builtin (require("fs"), import "node:...")', () => {
  requireBundle();
  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
  const specifiers = [
    // No \b before require: esbuild writes __require("fs") for a require it leaves alone.
    ...state.bundleText.matchAll(/require\s*\(\s*(["'`])([^"'`]+)\1\s*\)/g),
    ...state.bundleText.matchAll(/\b(?:import|from)\s*\(?\s*(["'`])([^"'`]+)\1/g),
  ].map((m) => m[2]);
  const offending = specifiers.filter((s) => builtins.has(s) || s.startsWith('node:'));
  assert.deepEqual([...new Set(offending)], [], 'Node builtins referenced by the browser bundle');
});

async function servePage() {
  const files = new Map([['/', { body: INDEX_HTML, type: 'text/html; charset=utf-8' }]]);
  for (const name of await readdir(state.outdir)) {
    const type = name.endsWith('.js') ? 'text/javascript' : name.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    files.set(`/${name}`, { body: await readFile(path.join(state.outdir, name)), type });
  }
  state.server = createServer((request, response) => {
    const file = files.get(new URL(request.url, 'http://localhost').pathname);
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise((resolve, reject) => {
    state.server.once('error', reject);
    state.server.listen(0, '127.0.0.1', resolve);
  });
  return `http://127.0.0.1:${state.server.address().port}/`;
}

test('in headless Chromium: wasm backend, TTL on a fake clock, both value modes, tags, typed errors', { timeout: 2 * PAGE_TIMEOUT_MS }, async () => {
  requireBundle();
  const url = await servePage();
  state.browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const page = await state.browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error?.message ?? error)));
  page.on('response', (response) => {
    if (response.status() >= 400) pageErrors.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(url, { waitUntil: 'load', timeout: PAGE_TIMEOUT_MS });
  await page
    .waitForFunction(() => window.tickcacheReady === true, { timeout: PAGE_TIMEOUT_MS })
    .catch((error) => assert.fail(`the page script did not start: ${error.message}\n${pageErrors.join('\n')}`));
  const r = await page.evaluate(() => window.tickcacheSuite());
  assert.deepEqual(pageErrors, [], 'the page logged errors');

  const sectionErrors = Object.entries(r)
    .filter(([, value]) => value?.sectionError !== undefined)
    .map(([name, value]) => `${name}: ${value.sectionError}`);
  assert.deepEqual(sectionErrors, [], 'page sections threw');
  // A real browser realm: no Node globals for the glue to lean on.
  assert.deepEqual(r.realm, { hasProcess: false, hasRequire: false });

  assert.equal(r.ttl.backend, 'wasm');
  assert.equal(r.ttl.backendInfo.backend, 'wasm');
  assert.equal(typeof r.ttl.backendInfo.nativeError, 'string', 'the cache says why it is not native');
  assert.equal(r.ttl.mode, 'object');
  // ttl 1000 ms + grace 500 ms, read at 0, 600, 1200 and 1600 ms on the page's fake clock.
  assert.deepEqual(r.ttl.steps, [
    { label: 't+0', sameObject: true, entry: { state: 'fresh', ttl: 1000, staleTtl: 1500 }, get: true, remainingTtl: 1000 },
    { label: 't+600', sameObject: true, entry: { state: 'fresh', ttl: 400, staleTtl: 900 }, get: true, remainingTtl: 400 },
    { label: 't+1200', sameObject: true, entry: { state: 'stale', ttl: 0, staleTtl: 300 }, get: true, remainingTtl: 0 },
    { label: 't+1600', sameObject: null, entry: null, get: false, remainingTtl: null },
  ]);
  assert.equal(r.ttl.stringTtl, 5 * 60 * 1000 - 1600, '"5m" is 300000 ms, 1600 ms of which have passed');

  assert.deepEqual(r.modes.object, { mode: 'object', statsMode: 'object', sameObject: true });
  assert.equal(r.modes.bytes.mode, 'bytes');
  assert.equal(r.modes.bytes.statsMode, 'bytes');
  assert.equal(r.modes.bytes.sameObject, false, 'bytes mode hands back a copy');
  assert.deepEqual(
    r.modes.bytes.value,
    { symbol: 'AAPL', bids: [189.5, 189.4], meta: { venue: 'XNAS' } },
    'bytes mode stored the value as it was at set (a later mutation does not leak in)',
  );
  assert.deepEqual(r.modes.bytes.raw, { isUint8Array: true, bytes: [0, 1, 2, 250, 255] });
  assert.ok(r.modes.bytes.chargedBytes > 0);

  assert.deepEqual(r.tags, { removed: 2, left: ['q:SAP'], again: 0, size: 1 });

  for (const [call, code] of [
    ['numberKey', 'invalid_key'],
    ['emptyKey', 'empty_key'],
    ['badTtl', 'invalid_ttl'],
    ['afterClose', 'closed'],
  ]) {
    assert.equal(r.bad[call].threw, true, `${call}: ${JSON.stringify(r.bad[call])}`);
    assert.equal(r.bad[call].isTickcacheError, true, `${call} is a TickcacheError`);
    assert.equal(r.bad[call].code, code, `${call}: ${r.bad[call].message}`);
  }
  assert.equal(r.bad.keptAfter, 'value', 'failed calls left the earlier entry intact');
  assert.equal(r.bad.sizeAfter, 1);

  for (const call of ['createCache', 'createCacheSync']) {
    assert.equal(r.native[call].threw, true, `${call}: ${JSON.stringify(r.native[call])}`);
    assert.equal(r.native[call].isTickcacheError, true);
    assert.equal(r.native[call].code, 'backend_unavailable');
  }
  assert.equal(typeof r.native.nativeLoadError, 'string');
});
