// Jest setup of the "wasm" project (jest.config.cjs): every cache in the suite runs on wasm.
process.env.TICKCACHE_BACKEND = 'wasm';
