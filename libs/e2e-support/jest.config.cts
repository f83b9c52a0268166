// Unit specs of the e2e helpers; the load generator's specs use real sockets on
// 127.0.0.1 and one spawns the load process, so one worker and a roomy timeout.
module.exports = {
  displayName: 'e2e-support',
  preset: '../../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  coverageDirectory: '../../coverage/libs/e2e-support',
  maxWorkers: 1,
  testTimeout: 30_000,
};
