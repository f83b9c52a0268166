import baseConfig, { publishedPackageChecks } from '../../eslint.config.mjs';

export default [...baseConfig, ...publishedPackageChecks];
