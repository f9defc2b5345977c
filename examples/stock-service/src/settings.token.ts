// src/settings.token.ts: the Nest injection token of the service's settings (config.ts).
export const SETTINGS = Symbol('STOCK_SERVICE_SETTINGS');
