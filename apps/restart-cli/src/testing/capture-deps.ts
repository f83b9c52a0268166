import { realDeps, type CliDeps } from '../app/cli-deps';

/** Real deps with stdout/stderr captured in strings; override any side effect. */
export function captureDeps(overrides: Partial<CliDeps> = {}) {
  const io = { out: '', err: '' };
  const deps: CliDeps = {
    ...realDeps(),
    isTTY: false,
    out: (t) => { io.out += t; },
    err: (t) => { io.err += t; },
    ...overrides,
  };
  return { deps, io };
}
