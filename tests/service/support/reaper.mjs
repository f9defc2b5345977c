// tests/service/support/reaper.mjs: kills the redis-servers and removes the temp dirs a test
// process started, when that process goes away without doing it itself (Ctrl-C, a crash, a
// SIGKILL, Jest exiting early). Jest runs tests with a sandboxed `process` whose exit and signal
// hooks do not fire, so the guard has to live outside: this process, spawned by
// support/redis.ts, reads "+pid N", "-pid N", "+dir PATH", "-dir PATH" lines on stdin and,
// when stdin closes (the parent is gone, however it went), cleans up what is still registered.

import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

const pids = new Set();
const dirs = new Set();

function cleanUp() {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

// A Ctrl-C reaches the whole process group: outlive it long enough to clean up after the parent.
process.on('SIGINT', () => {});
process.on('SIGTERM', cleanUp);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [op, kind, ...rest] = line.split(' ');
  const value = rest.join(' ');
  if (kind === 'pid') {
    const pid = Number(value);
    if (op === '+') pids.add(pid);
    else pids.delete(pid);
  } else if (kind === 'dir') {
    if (op === '+') dirs.add(value);
    else dirs.delete(value);
  }
});
lines.on('close', cleanUp);
