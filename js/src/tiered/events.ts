// js/src/tiered/events.ts: event-based invalidation: the policy configuration maps an event
// name to key, tag, prefix and pattern templates ("signal.created" -> "feed:*",
// "provider:{providerId}:stats", "leaderboard:top"); emitting the event with its data fills the
// templates and says what to invalidate.
//
// Invariants: the map is checked completely when it is loaded (a bad map never half-works);
// a template naming a field the event's data lacks is refused (code invalid_argument) before
// anything is invalidated; data substituted into a pattern or prefix is escaped, so a value
// such as "A*" cannot widen an invalidation beyond what the template says.

import { TickcacheError } from '../errors.js';

export interface EventTargets {
  keys?: readonly string[];
  tags?: readonly string[];
  prefixes?: readonly string[];
  patterns?: readonly string[];
}

export type EventMap = Readonly<Record<string, EventTargets>>;

export interface ResolvedEvent {
  keys: string[];
  tags: string[];
  prefixes: string[];
  patterns: string[];
}

const TARGET_KINDS = ['keys', 'tags', 'prefixes', 'patterns'] as const;
const PLACEHOLDER = /\{([A-Za-z_$][\w$]*)\}/g;
const GLOB_SPECIAL = /[*?\\]/g;

/** Checks an event map; returns it (frozen copies of its lists). */
export function checkEventMap(events: unknown): EventMap {
  if (typeof events !== 'object' || events === null || Array.isArray(events)) {
    throw new TickcacheError('bad_config', `events must be an object of event name -> targets, got ${typeof events}`);
  }
  const checked: Record<string, EventTargets> = {};
  for (const [name, targets] of Object.entries(events as Record<string, unknown>)) {
    const where = `events.${name}`;
    if (typeof targets !== 'object' || targets === null || Array.isArray(targets)) {
      throw new TickcacheError('bad_config', `${where} must be an object { keys, tags, prefixes, patterns }`);
    }
    const entry: Record<string, readonly string[]> = {};
    for (const field of Object.keys(targets)) {
      if (!(TARGET_KINDS as readonly string[]).includes(field)) {
        throw new TickcacheError('bad_config', `${where}.${field} is not a target kind (keys, tags, prefixes, patterns)`);
      }
    }
    for (const kind of TARGET_KINDS) {
      const list = (targets as Record<string, unknown>)[kind];
      if (list === undefined) continue;
      if (!Array.isArray(list) || !list.every((item) => typeof item === 'string' && item.length > 0)) {
        throw new TickcacheError('bad_config', `${where}.${kind} must be an array of non-empty strings`);
      }
      entry[kind] = Object.freeze([...(list as string[])]);
    }
    checked[name] = entry;
  }
  return Object.freeze(checked);
}

function fill(template: string, data: Record<string, unknown>, event: string, escapeGlob: boolean): string {
  return template.replace(PLACEHOLDER, (_match, field: string) => {
    const value = data[field];
    if (value === undefined || value === null || typeof value === 'object' || typeof value === 'function') {
      throw new TickcacheError(
        'invalid_argument',
        `event ${JSON.stringify(event)}: template ${JSON.stringify(template)} needs data.${field} (a string or number)`,
      );
    }
    const text = String(value);
    return escapeGlob ? text.replace(GLOB_SPECIAL, (c) => `\\${c}`) : text;
  });
}

/** What emitting `event` with `data` invalidates; an unknown event is refused. */
export function resolveEvent(events: EventMap, event: string, data: unknown = {}): ResolvedEvent {
  if (typeof event !== 'string') throw new TickcacheError('invalid_argument', 'an event name is a string');
  const targets = Object.prototype.hasOwnProperty.call(events, event) ? events[event] : undefined;
  if (targets === undefined) {
    throw new TickcacheError('invalid_argument', `no event ${JSON.stringify(event)} in the configuration`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TickcacheError('invalid_argument', `event data must be an object, got ${typeof data}`);
  }
  const record = data as Record<string, unknown>;
  return {
    keys: (targets.keys ?? []).map((t) => fill(t, record, event, false)),
    tags: (targets.tags ?? []).map((t) => fill(t, record, event, false)),
    // A prefix is matched literally by L1; L2 matches it with a glob, which escapes it itself.
    prefixes: (targets.prefixes ?? []).map((t) => fill(t, record, event, false)),
    patterns: (targets.patterns ?? []).map((t) => fill(t, record, event, true)),
  };
}
