// Unit specs plus suites that drive the real system Chromium (no mocked browser).
// One worker: the Chrome suites are CPU-heavy and this machine has 2 cores.
module.exports = {
  displayName: 'qc-chrome-pool',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/libs/qc-chrome-pool',
  maxWorkers: 1,
  testTimeout: 60_000,
};
