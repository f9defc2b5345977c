// tests/service/workers-stampede.test.ts: worker_threads that share a named L1 make exactly one
// loader call for a key between them (issue 4, line 1): 4 workers x 250 concurrent callers, one
// load. The workers coalesce through a lock entry added to the shared cache (Cache.add is atomic
// in the core); the waiting workers find the value in the shared L1.

import { Worker } from 'node:worker_threads';

const WORKERS = 4;
const CALLERS = 250;

type Report = { wrong: number; answered: number; loaderCalls: number; coalesced: number };

function run(name: string, counters: SharedArrayBuffer): Promise<Report> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./support/stampede-worker.mjs', import.meta.url), {
      workerData: { name, key: 'price:latest:AAPL', callers: CALLERS, workers: WORKERS, counters, loadMs: 200 },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
}

test('4 worker_threads x 250 callers sharing a named L1 make one loader call', async () => {
  const name = `stampede-${process.pid}-${Date.now()}`;
  const counters = new SharedArrayBuffer(8);
  const reports = await Promise.all(Array.from({ length: WORKERS }, () => run(name, counters)));
  const calls = new Int32Array(counters)[0];
  expect(calls).toBe(1);
  expect(reports.reduce((sum, r) => sum + r.loaderCalls, 0)).toBe(1);
  for (const report of reports) {
    expect(report.wrong).toBe(0);
    expect(report.answered).toBe(CALLERS);
    // Within each worker the other 249 callers joined its one load or its one wait.
    expect(report.coalesced).toBe(CALLERS - 1);
  }
}, 30_000);
