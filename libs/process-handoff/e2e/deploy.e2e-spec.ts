import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inCell, type Cell } from './support/cell';
import { FIXTURE, type Fixture } from './support/fixture';
import { signal } from './support/proc';

// A deploy that changes the file system under the running process, in the layouts
// operators use to put a new build in place of the old one. A successor runs whatever
// build is at the entry path; when something it needs is gone, the failure must name it.

/** A build: an entry file that says which release it is and loads the fixture. */
function writeRelease(dir: string, version: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.js'), `process.env.FIXTURE_RELEASE = ${JSON.stringify(version)};\nrequire(${JSON.stringify(FIXTURE)});\n`);
}

/** Points `link` at `target` atomically (a new link renamed over the old one), as `ln -sfn` + `mv -T` do. */
function relink(link: string, target: string): void {
  symlinkSync(target, `${link}.new`);
  renameSync(`${link}.new`, link);
}

/** releases/v1 and releases/v2 under <run>/app, with `current` pointing at v1. */
function releaseLayout(started: 'by a shell' | 'by systemd') {
  return (fixture: Fixture) => {
    const app = join(fixture.dir, 'app');
    writeRelease(join(app, 'releases', 'v1'), 'v1');
    writeRelease(join(app, 'releases', 'v2'), 'v2');
    symlinkSync('releases/v1', join(app, 'current'));
    const current = join(app, 'current');
    // A shell started it as `cd /srv/app/current && node main.js` (it sets PWD); systemd sets no PWD and
    // runs `ExecStart=/usr/bin/node /srv/app/current/main.js` with `WorkingDirectory=/srv/app/current`.
    return started === 'by a shell'
      ? { cwd: current, entry: 'main.js', env: { PWD: current } }
      : { cwd: current, entry: join(current, 'main.js'), env: { PWD: '' } };
  };
}

const loaded = (cell: Cell, pid: number) => cell.fixture.next(`pid ${pid} to load`, (e) => e.event === 'loaded' && e.pid === pid);

describe('a deploy that changes the file system under the running process', () => {
  test.concurrent('releases behind a `current` link, started from it by a shell: a successor runs the newly linked release, and the old release can be deleted', () =>
    inCell({ successor: 'serve', prepare: releaseLayout('by a shell') }, async (cell) => {
      const app = join(cell.fixture.dir, 'app');
      expect(await loaded(cell, cell.first)).toMatchObject({ release: 'v1' });
      relink(join(app, 'current'), 'releases/v2');
      const successor = await cell.sighup();
      expect(await loaded(cell, successor)).toMatchObject({ release: 'v2', entry: join(app, 'current', 'main.js') });
      await cell.handedOver();
      await cell.gone(cell.first);
      rmSync(join(app, 'releases', 'v1'), { recursive: true });
      signal(successor, 'SIGHUP');
      const third = (await cell.fixture.next('a third generation', (e) => e.event === 'ready' && e.pid !== successor && e.pid !== cell.first)).pid;
      expect(await loaded(cell, third)).toMatchObject({ release: 'v2' });
      await cell.expectServing(third);
      await cell.finish();
    }));

  test.concurrent('the same started as systemd does (no PWD, the entry through the link): the new release runs; with the old release (its working directory) deleted, the spawn fails naming the working directory, not node, and the process serves on', () =>
    inCell({ successor: 'serve', prepare: releaseLayout('by systemd') }, async (cell) => {
      const app = join(cell.fixture.dir, 'app');
      relink(join(app, 'current'), 'releases/v2');
      const successor = await cell.sighup();
      // It runs v2, in the directory its predecessor started in (getcwd() resolved the link): releases/v1.
      expect(await loaded(cell, successor)).toMatchObject({ release: 'v2', cwd: join(app, 'releases', 'v1') });
      await cell.handedOver();
      await cell.gone(cell.first);
      rmSync(join(app, 'releases', 'v1'), { recursive: true });
      signal(successor, 'SIGHUP');
      const outcome = ((await cell.fixture.next('the failed upgrade', (e) => e.event === 'outcome' && e.pid === successor)) as Awaited<ReturnType<Cell['outcome']>>).outcome;
      expect(outcome).toMatchObject({
        ok: false, reason: 'spawn-failed',
        message: `cannot start a successor: the working directory ${join(app, 'releases', 'v1')} cannot be reached (ENOENT): it was removed or replaced since this process started (a deploy that deletes the old release?); start the service from a directory that outlives a release`,
      });
      expect(outcome.message).not.toMatch(/node/);
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('a directory swapped by renames (mv app app.old; mv app.new app): the successor starts the new build from the path the process was started in', () =>
    inCell({
      successor: 'serve',
      prepare: (fixture) => {
        writeRelease(join(fixture.dir, 'app'), 'v1');
        writeRelease(join(fixture.dir, 'app.new'), 'v2');
        return { cwd: join(fixture.dir, 'app'), entry: 'main.js', env: { PWD: '' } };
      },
    }, async (cell) => {
      const { dir } = cell.fixture;
      renameSync(join(dir, 'app'), join(dir, 'app.old'));
      renameSync(join(dir, 'app.new'), join(dir, 'app'));
      const successor = await cell.sighup();
      expect(await loaded(cell, successor)).toMatchObject({ release: 'v2', cwd: join(dir, 'app') });
      await cell.handedOver();
      await cell.expectServing(successor);
      await cell.finish();
    }));

  test.concurrent('the entry file missing while a deploy copies files in: the spawn is refused naming the entry file; once it is back, the next SIGHUP hands over', () =>
    inCell({
      successor: 'serve',
      prepare: (fixture) => {
        writeRelease(join(fixture.dir, 'app'), 'v1');
        return { cwd: join(fixture.dir, 'app'), entry: join(fixture.dir, 'app', 'main.js') };
      },
    }, async (cell) => {
      const main = join(cell.fixture.dir, 'app', 'main.js');
      renameSync(main, `${main}.partial`);
      signal(cell.first, 'SIGHUP');
      expect((await cell.outcome(1)).outcome).toMatchObject({ ok: false, reason: 'spawn-failed', message: expect.stringContaining(`the entry file ${main} cannot be reached (ENOENT): a deploy is in progress or removed it`) });
      renameSync(`${main}.partial`, main);
      const successor = await cell.sighup();
      await cell.handedOver();
      await cell.expectServing(successor);
      await cell.finish();
    }));
});
