import { FakeEnvironment } from '../../test-support/fake-environment';
import { closeServers, predecessorSetup } from '../../test-support/upgrader-setup';
import { captureStart, explainSpawnError, missingPath } from './successor-launch';

/** A process started as `cd /srv/app/current && node main.js`, where `current` links to releases/v1. */
function releaseLayout(cmdlineEntry: string): FakeEnvironment {
  const env = new FakeEnvironment();
  env.workdir = '/srv/app/releases/v1'; // getcwd() resolves the link
  env.argv = ['/usr/bin/node', '/srv/app/releases/v1/main.js'];
  env.execArgv = [];
  env.cmdline = ['node', cmdlineEntry];
  env.env = { PWD: '/srv/app/current' };
  env.links.set('/srv/app/current', '/srv/app/releases/v1');
  return env;
}

describe('where a successor starts', () => {
  afterEach(closeServers);

  it('starts from the directory as the shell named it, so a relative entry names the newly linked release', () => {
    expect(captureStart(releaseLayout('main.js'))).toMatchObject({ cwd: '/srv/app/current', entry: '/srv/app/current/main.js' });
  });

  it('keeps an entry that was typed as an absolute path, and ignores a PWD that names another directory', () => {
    expect(captureStart(releaseLayout('/srv/app/releases/v1/main.js'))).toMatchObject({ cwd: '/srv/app/current', entry: '/srv/app/releases/v1/main.js' });
    const elsewhere = releaseLayout('main.js');
    elsewhere.links.set('/srv/app/current', '/srv/app/releases/v2');
    expect(captureStart(elsewhere)).toMatchObject({ cwd: '/srv/app/releases/v1', entry: '/srv/app/releases/v1/main.js' });
  });

  it('names the missing path: the working directory before node, node before the entry file', () => {
    const env = new FakeEnvironment();
    expect(missingPath(env, '/usr/bin/node', '/srv/app', '/srv/app/main.js')).toBeUndefined();
    env.missing.add('/srv/app/main.js');
    expect(missingPath(env, '/usr/bin/node', '/srv/app', '/srv/app/main.js')).toMatch(/^the entry file \/srv\/app\/main.js cannot be reached \(ENOENT\): a deploy/);
    env.missing.add('/srv/app');
    expect(missingPath(env, '/usr/bin/node', '/srv/app', '/srv/app/main.js')).toMatch(/^the working directory \/srv\/app cannot be reached \(ENOENT\): it was removed or replaced/);
  });

  it("explains spawn's ENOENT by the path that is missing, and EMFILE by the limit", () => {
    const env = new FakeEnvironment();
    env.missing.add('/srv/app');
    const request = { command: '/usr/bin/node', cwd: '/srv/app', args: [] };
    const enoent = Object.assign(new Error('spawn /usr/bin/node ENOENT'), { code: 'ENOENT' });
    expect(explainSpawnError(env, request, enoent)).toMatch(/^the working directory \/srv\/app cannot be reached/);
    const emfile = Object.assign(new Error('spawn /usr/bin/node EMFILE'), { code: 'EMFILE' });
    expect(explainSpawnError(env, request, emfile)).toMatch(/EMFILE: this process has no file descriptor left.*RLIMIT_NOFILE/);
  });

  it('does not spawn when the working directory is gone, and says so instead of blaming node', async () => {
    const { env, upgrader } = await predecessorSetup();
    env.missing.add('/srv/app');
    await expect(upgrader.upgrade()).resolves.toMatchObject({
      ok: false, reason: 'spawn-failed', message: expect.stringMatching(/^cannot start a successor: the working directory \/srv\/app cannot be reached \(ENOENT\)/),
    });
    expect(env.children).toEqual([]);
  });
});
