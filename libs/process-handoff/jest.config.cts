// Unit specs (fake process environment, no forking) plus *.process.spec.ts suites
// that start real processes from test-support/. One worker: the process suites
// fork several Node processes each and this machine has 2 shared cores.
module.exports = {
  displayName: 'process-handoff',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../../coverage/libs/process-handoff',
  maxWorkers: 1,
  testTimeout: 60_000,
};
