// End-to-end suites: real API processes (built with `nx build api`), real
// signals, real Chromium. Run with `nx e2e restart-cli-e2e`.
module.exports = {
  displayName: 'restart-cli-e2e',
  preset: '../../../jest.preset.js',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  testTimeout: 90_000,
  maxWorkers: 1,
};
