// The four libraries as packages: published with `nx release publish` to a local Verdaccio,
// installed into consumer projects outside the workspace, run there. Run with
// `nx e2e packages-e2e` (it builds the packages first).
module.exports = {
  displayName: 'packages-e2e',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  testTimeout: 180_000,
  maxWorkers: 1,
};
