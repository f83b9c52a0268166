// The workspace as a newcomer meets it: the README's commands, the install,
// the toolchain. Run with `nx e2e workspace-e2e`.
module.exports = {
  displayName: 'workspace-e2e',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  testTimeout: 240_000,
  maxWorkers: 1,
};
