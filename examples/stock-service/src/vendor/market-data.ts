// src/vendor/market-data.ts: the simulated vendor's data: a universe of 500 symbols and, for
// each, a quote, 30 daily OHLCV bars and fundamentals, all computed from the symbol and the time.
//
// Invariants: everything is a pure function of (symbol, time): two vendor instances (two service
// instances, a test and the app) agree on every value without sharing state, and a quote changes
// only when its tick (a minute by default) changes -- so a refresh within one tick reloads an
// identical value and keeps its version and ETag.

export interface Quote {
  symbol: string;
  price: number;
  change: number;
  changePercent: number;
  volume: number;
  currency: 'USD';
  /** The vendor's time of the quote (ISO 8601). */
  asOf: string;
}

export interface DailyBar {
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface PriceHistory {
  symbol: string;
  days: number;
  bars: DailyBar[];
}

export interface Fundamentals {
  symbol: string;
  name: string;
  sector: string;
  marketCap: number;
  peRatio: number;
  eps: number;
  dividendYield: number;
  employees: number;
  fiscalYearEnd: string;
}

export interface SymbolInfo {
  symbol: string;
  name: string;
  sector: string;
}

// The most asked-for symbols first: the service warms these at start.
const LARGE_CAPS: ReadonlyArray<readonly [string, string, string]> = [
  ['AAPL', 'Apple Inc.', 'Technology'],
  ['MSFT', 'Microsoft Corp.', 'Technology'],
  ['NVDA', 'NVIDIA Corp.', 'Technology'],
  ['AMZN', 'Amazon.com Inc.', 'Consumer Discretionary'],
  ['GOOGL', 'Alphabet Inc.', 'Communication Services'],
  ['META', 'Meta Platforms Inc.', 'Communication Services'],
  ['TSLA', 'Tesla Inc.', 'Consumer Discretionary'],
  ['BRK.B', 'Berkshire Hathaway Inc.', 'Financials'],
  ['JPM', 'JPMorgan Chase & Co.', 'Financials'],
  ['V', 'Visa Inc.', 'Financials'],
  ['UNH', 'UnitedHealth Group Inc.', 'Health Care'],
  ['XOM', 'Exxon Mobil Corp.', 'Energy'],
  ['JNJ', 'Johnson & Johnson', 'Health Care'],
  ['WMT', 'Walmart Inc.', 'Consumer Staples'],
  ['MA', 'Mastercard Inc.', 'Financials'],
  ['PG', 'Procter & Gamble Co.', 'Consumer Staples'],
  ['HD', 'Home Depot Inc.', 'Consumer Discretionary'],
  ['AVGO', 'Broadcom Inc.', 'Technology'],
  ['CVX', 'Chevron Corp.', 'Energy'],
  ['KO', 'Coca-Cola Co.', 'Consumer Staples'],
];

const SECTORS = [
  'Technology',
  'Health Care',
  'Financials',
  'Energy',
  'Industrials',
  'Utilities',
  'Materials',
  'Real Estate',
  'Consumer Staples',
  'Consumer Discretionary',
  'Communication Services',
];

export const UNIVERSE_SIZE = 500;

/** FNV-1a over the string's UTF-16 units: a stable 32-bit seed per symbol and tick. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small seeded PRNG; the same seed gives the same sequence on every host. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildUniverse(): SymbolInfo[] {
  const symbols: SymbolInfo[] = LARGE_CAPS.map(([symbol, name, sector]) => ({ symbol, name, sector }));
  const taken = new Set(symbols.map((s) => s.symbol));
  const random = seededRandom(20_240_601);
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  while (symbols.length < UNIVERSE_SIZE) {
    const length = 3 + Math.floor(random() * 2);
    let symbol = '';
    for (let i = 0; i < length; i++) symbol += letters[Math.floor(random() * 26)];
    if (taken.has(symbol)) continue;
    taken.add(symbol);
    const sector = SECTORS[Math.floor(random() * SECTORS.length)]!;
    symbols.push({ symbol, name: `${symbol[0]}${symbol.slice(1).toLowerCase()} Holdings`, sector });
  }
  return symbols;
}

/** The vendor's symbol list, most traded first. */
export const UNIVERSE: readonly SymbolInfo[] = Object.freeze(buildUniverse());
const BY_SYMBOL = new Map(UNIVERSE.map((info) => [info.symbol, info]));

export function symbolInfo(symbol: string): SymbolInfo | undefined {
  return BY_SYMBOL.get(symbol);
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A symbol's long-run price level, 10..1010 USD. */
function basePrice(symbol: string): number {
  return 10 + (hash32(`base:${symbol}`) % 100_000) / 100;
}

/** The price at one tick: a slow wave plus a small per-tick move, both fixed by (symbol, tick). */
function priceAtTick(symbol: string, tick: number): number {
  const phase = (hash32(`phase:${symbol}`) % 1000) / 1000;
  const wave = Math.sin(2 * Math.PI * (tick / 390 + phase)) * 0.03;
  const noise = ((hash32(`tick:${symbol}:${tick}`) % 2001) - 1000) / 100_000;
  return round(basePrice(symbol) * (1 + wave + noise));
}

export function quoteAt(info: SymbolInfo, nowMs: number, tickMs: number): Quote {
  const tick = Math.floor(nowMs / tickMs);
  const price = priceAtTick(info.symbol, tick);
  const dayOpenTick = tick - (tick % Math.max(1, Math.round(86_400_000 / tickMs)));
  const open = priceAtTick(info.symbol, dayOpenTick);
  return {
    symbol: info.symbol,
    price,
    change: round(price - open),
    changePercent: round(((price - open) / open) * 100, 3),
    volume: 10_000 + (hash32(`volume:${info.symbol}:${tick}`) % 5_000_000),
    currency: 'USD',
    asOf: new Date(tick * tickMs).toISOString(),
  };
}

/** The last `days` weekday bars before `nowMs`'s day (a simple calendar: weekends closed). */
export function historyAt(info: SymbolInfo, nowMs: number, days: number): PriceHistory {
  const bars: DailyBar[] = [];
  const day = 86_400_000;
  let date = Math.floor(nowMs / day) * day - day;
  while (bars.length < days) {
    const weekday = new Date(date).getUTCDay();
    if (weekday !== 0 && weekday !== 6) {
      const dayIndex = Math.floor(date / day);
      const open = priceAtTick(info.symbol, dayIndex * 390);
      const close = priceAtTick(info.symbol, dayIndex * 390 + 389);
      const spread = (hash32(`spread:${info.symbol}:${dayIndex}`) % 300) / 10_000;
      bars.push({
        date: new Date(date).toISOString().slice(0, 10),
        open,
        high: round(Math.max(open, close) * (1 + spread)),
        low: round(Math.min(open, close) * (1 - spread)),
        close,
        volume: 1_000_000 + (hash32(`dvol:${info.symbol}:${dayIndex}`) % 90_000_000),
      });
    }
    date -= day;
  }
  bars.reverse();
  return { symbol: info.symbol, days, bars };
}

export function fundamentalsOf(info: SymbolInfo): Fundamentals {
  const h = hash32(`fundamentals:${info.symbol}`);
  const price = basePrice(info.symbol);
  const shares = 50_000_000 + (h % 5_000_000_000);
  const eps = round(price / (8 + (h % 40)), 2);
  return {
    symbol: info.symbol,
    name: info.name,
    sector: info.sector,
    marketCap: Math.round(price * shares),
    peRatio: round(price / eps, 2),
    eps,
    dividendYield: round(((h >>> 8) % 500) / 10_000, 4),
    employees: 500 + ((h >>> 4) % 300_000),
    fiscalYearEnd: ['03-31', '06-30', '09-30', '12-31'][h % 4]!,
  };
}
