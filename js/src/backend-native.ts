// js/src/backend-native.ts: the Node-API addon backend (Node only).
//
// The addon is loaded synchronously (createCacheSync needs it) from build/addon/Release, found
// relative to this file: dist/esm/ and dist/cjs/ both sit two levels below the package root.
// A load failure is remembered with its reason, so the fallback to wasm can say why.

import { createRequire } from 'node:module';

import type { Backend, CoreCache, HostOptions } from './core-protocol.js';
import { messageOf } from './errors.js';

interface Addon {
  CoreCache: new (optionsJson: string, host?: HostOptions) => CoreCache;
  openCoreCache(name: string): CoreCache;
  parseDuration(text: string): number;
}

const ADDON_PATH = '../../build/addon/Release/tickcache.node';

let attempt: { backend?: Backend; error?: string } | undefined;

/** The native backend, or undefined with the reason in nativeLoadError(). Loads once. */
export function loadNativeBackend(): Backend | undefined {
  if (attempt === undefined) {
    try {
      const addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
      attempt = {
        backend: {
          name: 'native',
          create: (optionsJson, host) => new addon.CoreCache(optionsJson, host),
          open: (name) => addon.openCoreCache(name),
          parseDuration: (text) => addon.parseDuration(text),
        },
      };
    } catch (error) {
      attempt = { error: messageOf(error) };
    }
  }
  return attempt.backend;
}

/** Why the native addon could not load in this process; undefined if it loaded or was not tried. */
export function nativeLoadError(): string | undefined {
  return attempt?.error;
}
