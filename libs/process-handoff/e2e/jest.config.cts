// The handoff's fault campaign: real processes (the library's fixture server,
// test-support/handoff-fixture.ts), real signals, the open-loop load generator in
// a process of its own, ports from the OS. Run with `nx e2e process-handoff-e2e`.
// Cells that do not interfere run concurrently (test.concurrent, at most
// maxConcurrency at a time); those whose outcome rests on timing run alone.
module.exports = {
  displayName: 'process-handoff-e2e',
  preset: '../../../jest.preset.js',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  testTimeout: 120_000,
  maxWorkers: 1,
  maxConcurrency: 3,
};
