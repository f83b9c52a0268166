import nx from '@nx/eslint-plugin';
import jsoncParser from 'jsonc-eslint-parser';

/**
 * Module boundaries: apps depend on libs only, libs never on apps, and each lib
 * only on what its scope allows. `shutdown-state` and `qc-chrome-pool` import
 * nothing of ours; `health-client` knows nothing of Chrome or Nest. Test support
 * (`e2e-support`) is for test projects only: apps and libs may not import it.
 */
export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/out-tsc', '**/tmp', '**/coverage'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs', '**/*.cts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:test-support'] },
            { sourceTag: 'type:test-support', onlyDependOnLibsWithTags: ['type:lib'] },
            {
              sourceTag: 'scope:e2e-support',
              onlyDependOnLibsWithTags: ['scope:health'],
              bannedExternalImports: ['@nestjs/*', 'express', 'puppeteer', 'puppeteer-*'],
            },
            {
              sourceTag: 'scope:shutdown',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: ['@nestjs/*', 'express', 'puppeteer', 'puppeteer-*'],
            },
            {
              sourceTag: 'scope:qc',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: ['@nestjs/*', 'express'],
            },
            {
              sourceTag: 'scope:health',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: ['@nestjs/*', 'express', 'puppeteer', 'puppeteer-*'],
            },
            {
              sourceTag: 'scope:handoff',
              onlyDependOnLibsWithTags: [],
              bannedExternalImports: ['@nestjs/*', 'express', 'puppeteer', 'puppeteer-*'],
            },
            { allSourceTags: ['type:app', 'scope:api'], onlyDependOnLibsWithTags: ['scope:shutdown', 'scope:qc', 'scope:handoff'] },
            {
              allSourceTags: ['type:app', 'scope:cli'],
              onlyDependOnLibsWithTags: ['scope:health'],
              bannedExternalImports: ['@nestjs/*', 'puppeteer', 'puppeteer-*'],
            },
            // The e2e projects of the api and the CLI: what their app may use, plus the health
            // client and the shared e2e support (type:app above keeps the latter out of the apps).
            {
              allSourceTags: ['type:e2e', 'scope:api'],
              onlyDependOnLibsWithTags: ['scope:shutdown', 'scope:qc', 'scope:handoff', 'scope:health', 'scope:e2e-support'],
            },
            { allSourceTags: ['type:e2e', 'scope:cli'], onlyDependOnLibsWithTags: ['scope:health', 'scope:e2e-support'] },
            // The handoff library's fault campaign: the library and the shared e2e support (its load generator).
            { sourceTag: 'scope:handoff-e2e', onlyDependOnLibsWithTags: ['scope:handoff', 'scope:e2e-support'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];

/**
 * For the published libraries' own eslint.config.mjs (a `files` pattern counts from the
 * config file that holds it, so this cannot live in the list above): their package.json
 * declares exactly what their built code imports. A missing dependency fails for whoever
 * installs the package, an obsolete one costs them an install, a version unlike the
 * workspace's was never tested here.
 */
export const publishedPackageChecks = [
  {
    files: ['package.json'],
    languageOptions: { parser: jsoncParser },
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          buildTargets: ['build'],
          checkMissingDependencies: true,
          checkObsoleteDependencies: true,
          checkVersionMismatches: true,
          includeTransitiveDependencies: false,
          ignoredFiles: [
            '{projectRoot}/eslint.config.{js,cjs,mjs}',
            '{projectRoot}/jest.config.{ts,cts}',
            '{projectRoot}/**/*.spec.ts',
            '{projectRoot}/test-support/**',
          ],
        },
      ],
    },
  },
];
