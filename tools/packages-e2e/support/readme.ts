import { readFileSync } from 'node:fs';

/**
 * The quick start of a package README: the first ```ts block after the `## Quick start`
 * heading. The e2e runs exactly this text, so the README cannot drift from what works.
 */
export function quickStart(readmeFile: string): string {
  const readme = readFileSync(readmeFile, 'utf8');
  const heading = readme.search(/^## Quick start\s*$/m);
  if (heading === -1) throw new Error(`${readmeFile} has no "## Quick start" section`);
  const block = /^```ts\n([\s\S]*?)^```$/m.exec(readme.slice(heading));
  if (!block?.[1]) throw new Error(`${readmeFile}: no \`\`\`ts block under "## Quick start"`);
  return block[1];
}
