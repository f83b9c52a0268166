import baseConfig from '../../eslint.config.mjs';

export default [
  ...baseConfig,
  // e2e/ is a project of its own (restart-cli-e2e) with its own lint target.
  { ignores: ['e2e/**'] },
];
