// Jest setup of the "native" project (jest.config.cjs): every cache in the suite runs on the addon.
process.env.TICKCACHE_BACKEND = 'native';
