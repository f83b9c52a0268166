const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('path');
const { chmodSync } = require('fs');
const { BannerPlugin } = require('webpack');

// Bundles our own code (apps + libs) into dist/apps/restart-cli/main.js; packages from
// node_modules stay external and resolve from the workspace at run time.
module.exports = {
  output: {
    path: join(__dirname, '../../dist/apps/restart-cli'),
    clean: true,
    ...(process.env.NODE_ENV !== 'production' && {
      devtoolModuleFilenameTemplate: '[absolute-resource-path]',
    }),
  },
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      tsConfig: './tsconfig.app.json',
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: false,
      sourceMap: true,
    }),
    // An executable entry point: `dist/apps/restart-cli/main.js --help` works directly.
    new BannerPlugin({ banner: '#!/usr/bin/env node', raw: true, entryOnly: true }),
    {
      apply: (compiler) =>
        compiler.hooks.afterEmit.tap('ExecutableMain', () => chmodSync(join(compiler.outputPath, 'main.js'), 0o755)),
    },
  ],
};
