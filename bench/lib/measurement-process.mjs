// @ts-check
// bench/lib/measurement-process.mjs: a measurement process of the benchmarks (bench/js's
// throughput processes, bench/service's l1-hit.mjs and l2-hit.mjs): MeasurementProcess is how
// their run.mjs drives one (forked with an IPC channel, asked one thing at a time), and
// serveMeasurements is the process's side of the same conversation.
//
// Invariants: at most one request is outstanding per process; a request whose process dies
// rejects with the process's exit status and stderr (never hangs); stdout is ignored (the
// processes answer over IPC only).

import { fork } from 'node:child_process';

export class MeasurementProcess {
  /** @param {string} script @param {string[]} args @param {string} label */
  constructor(script, args, label) {
    this.label = label;
    this.stderr = '';
    this.exited = false;
    /** @type {string | number | null} */
    this.exitStatus = null;
    this.child = fork(script, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr?.on('data', (chunk) => {
      this.stderr += String(chunk);
    });
    /** @type {Promise<void>} */
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        this.exitStatus = signal ?? code;
        resolve();
      });
    });
  }

  /**
   * Sends `message` (null: send nothing, wait only) and resolves with the first reply of type
   * `expect`; rejects if the process exits first.
   * @param {object | null} message @param {string} expect @returns {Promise<any>}
   */
  request(message, expect) {
    return new Promise((resolve, reject) => {
      const onMessage = (/** @type {any} */ reply) => {
        if (reply?.type !== expect) return;
        this.child.off('message', onMessage);
        resolve(reply);
      };
      this.child.on('message', onMessage);
      this.exit.then(() => {
        this.child.off('message', onMessage);
        reject(new Error(`${this.label} exited (${String(this.exitStatus)}): ${this.stderr.trim()}`));
      });
      if (message !== null) this.child.send(message);
    });
  }

  /** Waits up to `ms` for the process to exit by itself, then kills it. @param {number} ms */
  async end(ms = 5000) {
    if (!this.exited) {
      await Promise.race([this.exit, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
    }
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
  }
}

/**
 * @typedef {{ type: string, mode?: string, op?: string, round?: number }} MeasurementRequest
 * @typedef {{
 *   warmup: (request: MeasurementRequest) => unknown,
 *   measure: (request: MeasurementRequest) => object | void | Promise<object | void>,
 *   finish: () => unknown,
 * }} MeasurementHandlers
 */

/**
 * Answers the driver's requests over IPC, one at a time: `warmup` -> `warmed`, `measure` ->
 * `measured` (with whatever fields the handler returns), `finish` -> `finished` with the
 * report, then disconnects. Says `ready` (with `ready`'s fields) first. A handler that throws
 * ends the process with the error on stderr, which the driver's request rejects with.
 * @param {MeasurementHandlers} handlers @param {object} [ready]
 */
export function serveMeasurements(handlers, ready = {}) {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('serveMeasurements: this process has no IPC channel');
  process.on('message', (/** @type {MeasurementRequest} */ request) => {
    const reply = async () => {
      if (request.type === 'warmup') {
        await handlers.warmup(request);
        send({ type: 'warmed' });
      } else if (request.type === 'measure') {
        const fields = await handlers.measure(request);
        send({ type: 'measured', ...(fields ?? {}) });
      } else if (request.type === 'finish') {
        const report = await handlers.finish();
        send({ type: 'finished', report }, () => process.disconnect());
      }
    };
    reply().catch((error) => {
      console.error(error);
      process.exit(1);
    });
  });
  send({ type: 'ready', ...ready });
}
