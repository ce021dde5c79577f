// ESM all the way: chalk 5 and @inquirer/prompts are ESM-only, so jest runs with
// --experimental-vm-modules (see package.json "test") and ts-jest emits ESM.
// Type checking is done once by `tsc` in `npm test`'s build step, so ts-jest only transpiles.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testTimeout: 60000,
  // Multi-process tests own ports and network namespaces; two workers keep CI (2 cores) busy without thrashing.
  maxWorkers: 2,
  verbose: true,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
