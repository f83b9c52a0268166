import baseConfig from '../../eslint.config.mjs';

/**
 * The API is bundled by esbuild, which emits no decorator metadata
 * (design:paramtypes): Nest cannot infer constructor parameters from types, so
 * every injected parameter names its token with @Inject(...).
 */
export default [
  ...baseConfig,
  // e2e/ is a project of its own (api-e2e) with its own lint target.
  { ignores: ['e2e/**'] },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'ClassDeclaration:has(Decorator > CallExpression[callee.name=/^(Injectable|Controller|Catch)$/]) MethodDefinition[kind="constructor"] > FunctionExpression > TSParameterProperty[decorators.length=0]',
          message: 'Name the injection token with @Inject(...): esbuild bundles the API without decorator metadata, so Nest cannot infer this parameter from its type.',
        },
        {
          selector:
            'ClassDeclaration:has(Decorator > CallExpression[callee.name=/^(Injectable|Controller|Catch)$/]) MethodDefinition[kind="constructor"] > FunctionExpression > Identifier[decorators.length=0]',
          message: 'Name the injection token with @Inject(...): esbuild bundles the API without decorator metadata, so Nest cannot infer this parameter from its type.',
        },
      ],
    },
  },
];
