// Validation of the shipped deployment files: systemd-analyze verify on the
// units, nginx -t and a real nginx in front of real sockets, schema checks of
// the Kubernetes manifests. Run with `nx e2e deployment`.
module.exports = {
  displayName: 'deployment-e2e',
  preset: '../jest.preset.js',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/e2e/**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js'],
  testTimeout: 60_000,
  maxWorkers: 1,
};
