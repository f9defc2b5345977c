// js/src/nest/key-template.ts: cache keys (and tags, patterns) built from a method's arguments
// ('price:{0}', 'feed:{0.userId}:{1}') or from an HTTP request ('price:latest:{symbol}',
// '{query.range}'), and the stable text of a value.
//
// Invariants: the same arguments always give the same key (objects are written with their keys
// sorted, so { a, b } and { b, a } agree); a template is parsed once, when the decorator is
// applied, and a malformed one is refused there (code invalid_argument); a value that has no
// stable text (a function, a symbol, a cycle) is refused with the template and place named;
// undefined and null become '' (an omitted optional argument is not an error). Values put into
// a glob pattern are escaped, so an argument such as 'A*' cannot widen an invalidation.

import { TickcacheError } from '../index.js';

const PLACEHOLDER = /\{([^{}]*)\}/g;
const GLOB_SPECIAL = /[*?\\]/g; // the specials of tickcache globs, as tiered/events.ts escapes them

/** JSON with object keys sorted (recursively): equal values, equal text. */
export function stableStringify(value: unknown, where = 'value'): string {
  const seen = new Set<object>();
  const walk = (item: unknown): string => {
    if (item === null || item === undefined) return 'null';
    switch (typeof item) {
      case 'string':
        return JSON.stringify(item);
      case 'number':
        return Number.isFinite(item) ? String(item) : JSON.stringify(String(item));
      case 'boolean':
        return String(item);
      case 'bigint':
        return JSON.stringify(item.toString());
      case 'object':
        break;
      default:
        throw new TickcacheError('invalid_argument', `${where}: a ${typeof item} has no stable key text`);
    }
    const object = item as object;
    if (object instanceof Date) return JSON.stringify(object.toISOString());
    if (seen.has(object)) throw new TickcacheError('invalid_argument', `${where}: a cyclic object has no stable key text`);
    seen.add(object);
    try {
      if (Array.isArray(object)) return `[${object.map(walk).join(',')}]`;
      const record = object as Record<string, unknown>;
      const fields = Object.keys(record)
        .filter((name) => record[name] !== undefined)
        .sort()
        .map((name) => `${JSON.stringify(name)}:${walk(record[name])}`);
      return `{${fields.join(',')}}`;
    } finally {
      seen.delete(object);
    }
  };
  return walk(value);
}

/** The text a placeholder becomes: scalars as they are, objects as stable JSON, nothing as ''. */
export function keyPart(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    return value.join(',');
  }
  return stableStringify(value, where);
}

export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, (c) => `\\${c}`);
}

function readPath(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (const step of path) {
    if (current === null || current === undefined || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

interface Parsed {
  literal: string[];
  paths: string[][];
}

function parse(template: string, where: string, checkPath: (path: string[], raw: string) => void): Parsed {
  if (typeof template !== 'string' || template === '') {
    throw new TickcacheError('invalid_argument', `${where}: a key template is a non-empty string, got ${JSON.stringify(template)}`);
  }
  const literal: string[] = [];
  const paths: string[][] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const raw = match[1]!.trim();
    const path = raw.split('.');
    if (raw === '' || path.some((step) => step === '')) {
      throw new TickcacheError('invalid_argument', `${where}: empty placeholder in template ${JSON.stringify(template)}`);
    }
    checkPath(path, raw);
    literal.push(template.slice(last, match.index));
    paths.push(path);
    last = match.index! + match[0].length;
  }
  literal.push(template.slice(last));
  if (/[{}]/.test(literal.join(''))) {
    throw new TickcacheError('invalid_argument', `${where}: unbalanced braces in template ${JSON.stringify(template)}`);
  }
  return { literal, paths };
}

function render(parsed: Parsed, template: string, resolve: (path: string[]) => unknown, escape: boolean): string {
  // The literal parts are the pattern the author wrote; only the values are escaped.
  let out = parsed.literal[0]!;
  parsed.paths.forEach((path, i) => {
    const text = keyPart(resolve(path), `template ${JSON.stringify(template)} at {${path.join('.')}}`);
    out += (escape ? escapeGlob(text) : text) + parsed.literal[i + 1]!;
  });
  return out;
}

/** A key from a method's arguments: a template ('price:{0}', '{1.id}') or a function of them. */
export type ArgsTemplate<A extends unknown[] = any[]> = string | ((...args: A) => string);

/**
 * Compiles a template over method arguments: placeholders are an argument index, optionally
 * followed by a path into it ({0}, {0.symbol}). `escape` escapes the values for a glob pattern.
 */
export function compileArgsTemplate(template: ArgsTemplate, where: string, escape = false): (args: unknown[]) => string {
  if (typeof template === 'function') {
    return (args) => {
      const key = template(...args);
      if (typeof key !== 'string' || key === '') {
        throw new TickcacheError('invalid_key', `${where}: the key function returned ${JSON.stringify(key)}, not a non-empty string`);
      }
      return key;
    };
  }
  const parsed = parse(template, where, (path, raw) => {
    if (!/^\d+$/.test(path[0]!)) {
      throw new TickcacheError(
        'invalid_argument',
        `${where}: placeholder {${raw}} in ${JSON.stringify(template)} must start with an argument index ({0}, {1.id})`,
      );
    }
  });
  return (args) => render(parsed, template, (path) => readPath(args, path), escape);
}

/** The parts of a request a route template reads (Express and Fastify requests both have them). */
export interface RequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  user?: unknown;
}

export type RequestTemplate = string | ((request: RequestLike) => string);

const REQUEST_ROOTS = new Set(['params', 'query', 'headers', 'user']);

/**
 * Compiles a template over an HTTP request: {name} is a route parameter, else a query
 * parameter; {params.x}, {query.x}, {headers.x} and {user.x} name the place explicitly.
 */
export function compileRequestTemplate(template: RequestTemplate, where: string): (request: RequestLike) => string {
  if (typeof template === 'function') {
    return (request) => {
      const key = template(request);
      if (typeof key !== 'string' || key === '') {
        throw new TickcacheError('invalid_key', `${where}: the key function returned ${JSON.stringify(key)}, not a non-empty string`);
      }
      return key;
    };
  }
  const parsed = parse(template, where, () => {});
  return (request) =>
    render(
      parsed,
      template,
      (path) => {
        if (path.length > 1 && REQUEST_ROOTS.has(path[0]!)) {
          // Node gives header names in lower case.
          const rest = path[0] === 'headers' ? [path[1]!.toLowerCase(), ...path.slice(2)] : path.slice(1);
          return readPath((request as Record<string, unknown>)[path[0]!], rest);
        }
        const fromParams = readPath(request.params, path);
        return fromParams !== undefined ? fromParams : readPath(request.query, path);
      },
      false,
    );
}

/** The default key of a route: its path and its query parameters sorted (same request, same key). */
export function requestUrlKey(request: RequestLike): string {
  const url = new URL(request.originalUrl ?? request.url ?? '/', 'http://localhost');
  const pairs = [...url.searchParams.entries()].sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const query = pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`;
  return `http:${url.pathname}${query}`;
}
