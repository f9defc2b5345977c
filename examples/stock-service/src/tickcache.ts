// src/tickcache.ts: the one place this service imports tickcache from.
//
// The example runs from a fresh clone, before any `npm install tickcache`, so it reaches the
// package's built ES modules (dist/esm, made by scripts/build-js.sh) by relative path. src/ and
// dist/ sit at the same depth below the repository root, so this path holds for the TypeScript
// sources (Jest, tsc's type check) and for the compiled service alike. A service of yours writes
// `from 'tickcache'` here instead; nothing else in this example changes.

export * from '../../../dist/esm/index.js';
