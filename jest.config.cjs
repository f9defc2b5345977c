// jest.config.cjs: one Jest suite (tests/js), run twice: once per backend (two projects), and
// the service suite (tests/service, Node only, real redis-server).
// The suite imports 'tickcache' -- the built package (dist/, scripts/build-js.sh) -- and each
// project forces its backend through TICKCACHE_BACKEND (tests/js/support/backend-*.cjs), so the
// same test files prove the same behaviour on the native addon and on wasm.
// ESM throughout: run with NODE_OPTIONS=--experimental-vm-modules (scripts/test.sh does).

const shared = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/tests/js/**/*.test.ts'],
  moduleNameMapper: {
    '^tickcache$': '<rootDir>/dist/esm/index.js',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tests/js/tsconfig.json' }],
  },
};

module.exports = {
  projects: [
    { ...shared, displayName: 'native', setupFiles: ['<rootDir>/tests/js/support/backend-native.cjs'] },
    { ...shared, displayName: 'wasm', setupFiles: ['<rootDir>/tests/js/support/backend-wasm.cjs'] },
    // The service layer (tiers, Redis, the bus): Node only, against a real redis-server.
    {
      ...shared,
      displayName: 'service',
      testMatch: ['<rootDir>/tests/service/**/*.test.ts'],
      transform: {
        '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tests/service/tsconfig.json' }],
      },
    },
    // The NestJS integration and the example service: real Nest apps over HTTP (supertest).
    {
      ...shared,
      displayName: 'nest',
      testMatch: ['<rootDir>/tests/nest/**/*.test.ts', '<rootDir>/examples/stock-service/test/**/*.test.ts'],
      transform: {
        '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tests/nest/tsconfig.json' }],
      },
    },
  ],
};
