import nx from '@nx/eslint-plugin';

/**
 * Module boundaries: apps depend on libs only, libs never on apps, and each lib
 * only on what its scope allows. `shutdown-state` and `qc-chrome-pool` import
 * nothing of ours; `health-client` knows nothing of Chrome or Nest.
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
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib'] },
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
            { sourceTag: 'scope:api', onlyDependOnLibsWithTags: ['scope:shutdown', 'scope:qc'] },
            {
              sourceTag: 'scope:cli',
              onlyDependOnLibsWithTags: ['scope:health'],
              bannedExternalImports: ['@nestjs/*', 'puppeteer', 'puppeteer-*'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
