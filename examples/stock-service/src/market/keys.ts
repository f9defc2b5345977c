// src/market/keys.ts: the service's cache key patterns, in one place (USER-NEEDS.md "Keys"):
//
//   price:latest:{symbol}   latest quote             TTL by market hours (5 min open, until the open)
//   data:recent:{symbol}    30 daily OHLCV bars      1 h
//   fundamentals:{symbol}   company fundamentals     24 h
//   symbols:list            the vendor's symbols     6 h
//
// Invariants: a key is a pure function of the validated request parameters (the same request
// gives the same key); every key ends with the symbol it is about, so "*:AAPL" names all of
// AAPL's keys; the TTLs are not here but in the policy (config.ts), matched by these patterns.

export const cacheKeys = {
  price: (symbol: string): string => `price:latest:${symbol}`,
  history: (symbol: string): string => `data:recent:${symbol}`,
  fundamentals: (symbol: string): string => `fundamentals:${symbol}`,
  symbols: (): string => 'symbols:list',
} as const;

/** All the keys of one symbol, as a glob (the symbol escaped: "BRK.B" has no glob character, but a future one might). */
export function symbolPattern(symbol: string): string {
  return `*:${symbol.replace(/[*?\\]/g, (c) => `\\${c}`)}`;
}
