import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { planTierUp, readV8Options, withFastTierUp } from './warm-tier-up';

const WORKSPACE = join(__dirname, '../../../../..');
const V8_OPTIONS = [
  '  --interrupt-budget (interrupt budget which should be used for the profiler counter)',
  '        type: int  default: --interrupt-budget=67584',
  '  --ticks-before-optimization (the number of times we have to go through the interrupt budget before considering this function for optimization)',
  '        type: int  default: --ticks-before-optimization=3',
].join('\n');

describe('planTierUp', () => {
  it("optimizes after an eighth of V8's budget and one tick during the warm-up, and sets back V8's own defaults", () => {
    expect(planTierUp([], V8_OPTIONS)).toEqual({
      ok: true,
      warm: '--interrupt-budget=8448 --ticks-before-optimization=1',
      after: '--interrupt-budget=67584 --ticks-before-optimization=3',
    });
  });

  it("leaves the operator's own values alone, naming the flag the command line sets", () => {
    expect(planTierUp(['--max-old-space-size=512', '--interrupt-budget=1000'], V8_OPTIONS)).toEqual({ ok: false, reason: 'the command line sets --interrupt-budget' });
    expect(planTierUp(['--ticks_before_optimization=2'], V8_OPTIONS)).toEqual({ ok: false, reason: 'the command line sets --ticks-before-optimization' });
    expect(planTierUp(['--interrupt-budget-for-feedback-allocation=100'], V8_OPTIONS)).toMatchObject({ ok: true });
  });

  it('changes nothing where this V8 lists no default for a flag (or node --v8-options could not be read)', () => {
    expect(planTierUp([], V8_OPTIONS.split('\n').slice(0, 2).join('\n'))).toEqual({ ok: false, reason: 'this V8 lists no default for --ticks-before-optimization' });
    expect(planTierUp([], '')).toEqual({ ok: false, reason: 'this V8 lists no default for --interrupt-budget and --ticks-before-optimization' });
  });
});

describe('withFastTierUp', () => {
  it('sets the warm flags for the warm-up only, and sets them back also when it throws', async () => {
    const set: string[] = [];
    const deps = { execArgv: [], v8Options: async () => V8_OPTIONS, setFlags: (flags: string) => set.push(flags) };
    const done = await withFastTierUp(async () => [...set], deps);
    expect(done).toEqual({ result: ['--interrupt-budget=8448 --ticks-before-optimization=1'], tierUp: '--interrupt-budget=8448 --ticks-before-optimization=1' });
    expect(set).toEqual(['--interrupt-budget=8448 --ticks-before-optimization=1', '--interrupt-budget=67584 --ticks-before-optimization=3']);

    set.length = 0;
    await expect(withFastTierUp(async () => Promise.reject(new Error('cut')), deps)).rejects.toThrow('cut');
    expect(set).toHaveLength(2);
  });

  it('runs the warm-up with V8’s own thresholds, and says why, when there is no plan', async () => {
    const set: string[] = [];
    const done = await withFastTierUp(async () => 'warm', { execArgv: ['--interrupt-budget=1000'], v8Options: async () => V8_OPTIONS, setFlags: (flags) => set.push(flags) });
    expect(done).toEqual({ result: 'warm', tierUp: "V8's own (the command line sets --interrupt-budget)" });
    expect(set).toEqual([]);
  });

  it("reads this node's defaults", async () => {
    expect(planTierUp([], await readV8Options())).toMatchObject({ ok: true, after: expect.stringMatching(/^--interrupt-budget=\d+ --ticks-before-optimization=\d+$/) });
  });

  it('makes this V8 optimize a function after far fewer calls during the warm-up, and as many as before after it', async () => {
    // In a node of its own with --allow-natives-syntax: calls until V8 marked, is compiling or has optimized a new function.
    const script = `
      const { withFastTierUp } = require('./apps/api/src/app/runtime/warm-tier-up');
      let fresh = 0;
      const callsUntilHot = () => {
        const f = new Function('x', 'let s = ' + (fresh += 1) + '; for (let i = 0; i < 4; i++) s += x * i; return s;');
        for (let n = 1; n <= 200000; n++) {
          f(n);
          if (%GetOptimizationStatus(f) & (16 | 64 | 256 | 512 | 1024)) return n;
        }
        return 200000;
      };
      (async () => {
        const before = callsUntilHot();
        let during = 0;
        const { tierUp } = await withFastTierUp(async () => { during = callsUntilHot(); });
        console.log(JSON.stringify({ before, during, after: callsUntilHot(), tierUp }));
      })();
    `;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--allow-natives-syntax', '-r', '@swc-node/register', '-e', script], { cwd: WORKSPACE, timeout: 60_000 }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out));
    });
    const { before, during, after, tierUp } = JSON.parse(stdout) as { before: number; during: number; after: number; tierUp: string };
    // Measured here: 535 calls before and after, 69 during (a 24th of the runs, less what every function's first tick needs).
    expect(tierUp).toMatch(/^--interrupt-budget=\d+ --ticks-before-optimization=1$/);
    expect({ before: before < 200_000, duringIsFarFewer: during * 4 <= before, afterAsBefore: after * 2 >= before && after <= before * 2 }).toEqual({ before: true, duringIsFarFewer: true, afterAsBefore: true });
  });
});
