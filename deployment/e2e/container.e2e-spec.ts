import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deploymentForPodmanHostNetwork,
  loadKustomization,
  parseImage,
  podSpecOf,
  renderKustomization,
  toYaml,
  type K8sObject,
} from './support/container-kustomization';
import {
  buildImage,
  describeProcesses,
  imageIds,
  inspectContainer,
  installHostTools,
  isChromeBrowser,
  isChromeRenderer,
  keepImages,
  podman,
  processesInNamespaceOf,
  removeByName,
  removeRunImages,
  run,
  type ContainerProcess,
} from './support/container-podman';
import { freePort, getJson, httpRequest, slowPost, waitFor, waitReady } from '@edu-agents/e2e-support';

// The image built by deployment/container/Containerfile, run the way a cluster
// runs it: `podman run` as uid 10001 on a read-only root with /tmp as tmpfs
// and a 64 MB /dev/shm, then deployment/k8s itself under `podman kube play`.
// The image is built once, on the stand-in base of local-base.sh, and removed
// at the end with every container, pod and volume of the run
// (CONTAINER_E2E_KEEP_IMAGES=1 keeps the images for a faster rerun).

const RUN_ID = `e2e-${process.pid}`;
const IMAGE = `localhost/edu-agents/api:${RUN_ID}`;
const MINUTE = 60_000;
const UID = 10001;

const shipped = renderKustomization();
const deployment = shipped.find((o) => o.kind === 'Deployment') as K8sObject;
const podSpec = podSpecOf(deployment);
/** What the kubelet gives a pod between SIGTERM and SIGKILL (30 s when unset); the stop tests hold the image to it. */
const GRACE_SECONDS = podSpec.terminationGracePeriodSeconds ?? 30;

const LESSON = '<main><h1>Fractions</h1><p>Half of 4 is 2.</p></main>';
const BROKEN = '<main><h1>Cells</h1><img src="missing-diagram.png"></main>';

const containers: string[] = [];
const images: string[] = [];
const PAUSE_IMAGE = 'localhost/podman-pause';
let pauseImagesBefore: string[] = [];

type Health = { details: { shutdown: { phase: string; inFlight: number } } };
const postQc = (port: number, path: string, html: string) => httpRequest(port, 'POST', path, JSON.stringify({ html }));

/** `podman run` of the image as the issue and a cluster run it; returns when the API is ready. */
async function startContainer(name: string, port: number, extra: string[] = [], command: string[] = []): Promise<ContainerProcess[]> {
  containers.push(name);
  await podman([
    'run', '--detach', '--name', name,
    '--read-only', '--tmpfs', '/tmp', '--user', String(UID), '--shm-size', '64m',
    '--network', 'host', '--env', `PORT=${port}`,
    ...extra, IMAGE, ...command,
  ]);
  await waitReady(port, 3 * MINUTE).catch(async (error) => {
    throw new Error(`${name} did not get ready; its log:\n${await podman(['logs', name]).catch(() => '')}`, { cause: error });
  });
  return processesInNamespaceOf((await inspectContainer(name)).pid);
}

const processesOf = async (name: string) => processesInNamespaceOf((await inspectContainer(name)).pid);
const zombies = (processes: ContainerProcess[]) => processes.filter((p) => p.state === 'Z');

/** Kills Chrome's browser process of the container from the host and waits for the pool to have replaced it. */
async function crashChrome(name: string, port: number): Promise<void> {
  const before = await getJson<{ browserRestarts: number }>(port, '/qc-stats');
  const processes = await processesOf(name);
  const renderer = processes.find(isChromeRenderer);
  const browser = processes.find(isChromeBrowser);
  if (!renderer || !browser) throw new Error(`no Chrome renderer and browser in ${name}:\n${describeProcesses(processes)}`);
  process.kill(renderer.hostPid, 'SIGKILL');
  process.kill(browser.hostPid, 'SIGKILL');
  await waitFor(async () => {
    const stats = await getJson<{ browserRestarts: number; browsers: number }>(port, '/qc-stats');
    return stats.body.browserRestarts > before.body.browserRestarts && stats.body.browsers >= 1 ? true : undefined;
  }, 'the QC pool to replace the killed Chrome', 2 * MINUTE);
}

/** `podman stop` with the pod's grace period; resolves with how long it took and how the container ended. */
async function stopContainer(name: string): Promise<{ ms: number; exitCode: number; log: string }> {
  const stopped = await run('podman', ['stop', '--time', String(GRACE_SECONDS), name]);
  if (stopped.code !== 0) throw new Error(`podman stop ${name} exited ${stopped.code}: ${stopped.stderr}`);
  const { exitCode } = await inspectContainer(name);
  return { ms: stopped.ms, exitCode, log: await podman(['logs', name]) };
}

beforeAll(async () => {
  // podman itself first: on a fresh machine nothing has installed it yet.
  await installHostTools();
  pauseImagesBefore = await imageIds(PAUSE_IMAGE);
  const built = await buildImage(IMAGE, RUN_ID);
  images.push(IMAGE);
  if (built.baseBuilt) images.push(built.baseImage); // this run made the base, so it removes it too
}, 20 * MINUTE);

afterAll(async () => {
  await removeByName('container', containers);
  if (keepImages()) return;
  // podman builds its pod infra image on the first `kube play`: remove it if this run made it.
  const pauseImages = (await imageIds(PAUSE_IMAGE)).filter((id) => !pauseImagesBefore.includes(id));
  await removeRunImages(RUN_ID, [...images, ...pauseImages]);
}, 5 * MINUTE);

describe('the image', () => {
  it('runs node on the built API as uid 10001 under an init, with the environment the contract names', async () => {
    const [config] = JSON.parse(await podman(['image', 'inspect', IMAGE])) as { Config: { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[]; WorkingDir: string } }[];
    expect(config.Config.User).toBe(`${UID}:${UID}`);
    expect(config.Config.Entrypoint).toEqual(['/usr/bin/tini', '-s', '--']);
    expect(config.Config.Cmd).toEqual(['node', 'dist/apps/api/main.js']);
    expect(config.Config.WorkingDir).toBe(podSpec.containers[0].workingDir);
    expect(config.Config.Env).toEqual(expect.arrayContaining(['CHROME_PATH=/usr/lib/chromium/chromium', 'HOST=0.0.0.0', 'HANDOFF_ENABLED=false', 'HOME=/tmp']));
  });
});

describe('the image under podman run --read-only --tmpfs /tmp --user 10001', () => {
  const name = `edu-agents-api-${RUN_ID}`;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
  });

  it('becomes ready, with tini as PID 1, every process as uid 10001 and nothing writable but /tmp', async () => {
    const processes = await startContainer(name, port);
    expect(processes[0]).toMatchObject({ pid: 1, command: expect.stringMatching(/^\/usr\/bin\/tini /) });
    expect(processes.find((p) => p.command.startsWith('node '))?.command).toBe('node dist/apps/api/main.js');
    expect(processes.filter((p) => p.uid !== UID)).toEqual([]);
    expect(await inspectContainer(name)).toMatchObject({ readOnly: true });

    const probe = await run('podman', ['exec', name, 'sh', '-c', 'touch /opt/edu-agents/probe; touch /tmp/probe && echo tmp-ok']);
    expect(probe.stderr).toMatch(/Read-only file system/);
    expect(probe.stdout.trim()).toBe('tmp-ok');
    // Built apps and production packages only: no sources, no build tools.
    const listing = await podman(['exec', name, 'sh', '-c', 'ls -A; ls dist/apps; for p in nx jest webpack eslint @nx/js ts-jest; do test -e node_modules/$p/package.json && echo "dev:$p"; done; command -v g++ || true']);
    expect(listing.trim().split('\n')).toEqual(['dist', 'node_modules', 'package.json', 'api', 'restart-cli']);
    expect((await run('podman', ['exec', name, 'node', 'dist/apps/restart-cli/main.js', '--help'])).code).toBe(0);
  }, 5 * MINUTE);

  it('renders QC jobs: reports and a screenshot, several at once', async () => {
    const [clean, broken, again] = await Promise.all([postQc(port, '/qc/check', LESSON), postQc(port, '/qc/check', BROKEN), postQc(port, '/qc/check', `${LESSON}<p>2</p>`)]);
    expect([clean.status, broken.status, again.status]).toEqual([200, 200, 200]);
    expect(JSON.parse(clean.body)).toMatchObject({ ok: true, brokenImages: [] });
    expect(JSON.parse(broken.body)).toMatchObject({ ok: false, brokenImages: [{ src: 'missing-diagram.png' }], imagesMissingAlt: [{ src: 'missing-diagram.png' }] });
    const png = await postQc(port, '/qc/screenshot', BROKEN);
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.body.slice(1, 4)).toBe('PNG');
  }, 2 * MINUTE);

  it('runs Chromium below the API as uid 10001 without privilege: every Chromium process at nice 19, node at 0', async () => {
    const processes = await processesOf(name);
    const chrome = processes.filter((p) => /\/chromium(\s|$)/.test(p.command) && p.state !== 'Z');
    expect(chrome.length).toBeGreaterThan(2);
    expect([...new Set(chrome.map((p) => p.nice))]).toEqual([19]);
    expect(processes.find((p) => p.command.startsWith('node '))?.nice).toBe(0);
    const stats = (await getJson<{ browserProcesses: { priority: { nice: number; processes: string } }[] }>(port, '/qc-stats')).body;
    expect(stats.browserProcesses[0]?.priority).toMatchObject({ nice: 19, processes: 'nice' });
  });

  it('leaves no zombie process after the jobs', async () => {
    await waitFor(async () => (zombies(await processesOf(name)).length === 0 ? true : undefined), 'no zombie in the container', 10_000).catch(async (error) => {
      throw new Error(`zombies left:\n${describeProcesses(await processesOf(name))}`, { cause: error });
    });
  });

  it('reaps what a Chrome crash leaves behind, replaces Chrome and renders again', async () => {
    await crashChrome(name, port);
    expect((await postQc(port, '/qc/check', `${BROKEN}<p>after the crash</p>`)).status).toBe(200);
    await waitFor(async () => (zombies(await processesOf(name)).length === 0 ? true : undefined), 'no zombie after the crash', 10_000).catch(async (error) => {
      throw new Error(`zombies left after the crash:\n${describeProcesses(await processesOf(name))}`, { cause: error });
    });
  }, 3 * MINUTE);

  it('keeps one API process serving on SIGHUP: the hot handoff is off in the image', async () => {
    // Which node processes, not what they are doing at the moment: the scheduler state (R, S) is not theirs to keep.
    const nodeProcesses = async () =>
      (await processesOf(name)).filter((p) => p.command.startsWith('node ')).map(({ pid, hostPid, uid, command }) => ({ pid, hostPid, uid, command }));
    const nodeBefore = await nodeProcesses();
    await podman(['kill', '--signal', 'HUP', name]);
    await waitFor(async () => (/SIGHUP: hot handoff is off/.test(await podman(['logs', name])) ? true : undefined), 'the API to log that it ignores SIGHUP');
    expect((await getJson<Health>(port, '/health')).status).toBe(200);
    expect(await nodeProcesses()).toEqual(nodeBefore);
  });

  it('finishes a request in flight at podman stop, then exits 0 well within the grace period', async () => {
    const held = slowPost(`http://127.0.0.1:${port}/qc/check`, { html: `${LESSON}<p>in flight</p>` });
    await waitFor(async () => ((await getJson<Health>(port, '/health')).body.details.shutdown.inFlight === 1 ? true : undefined), 'the held request to be in flight');

    const stop = stopContainer(name);
    await waitFor(async () => {
      const health = await getJson<Health>(port, '/health');
      return health.status === 503 && health.body.details.shutdown.phase === 'draining' ? true : undefined;
    }, 'the API to start draining on the SIGTERM that podman stop sends through tini', 30_000);
    held.finish();
    const answer = await held.answer;
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ ok: true, cached: false });

    const stopped = await stop;
    expect(stopped.exitCode).toBe(0); // 137 would be podman's SIGKILL at the end of the grace period
    expect(stopped.ms).toBeLessThan(GRACE_SECONDS * 1_000);
    expect(stopped.log).toMatch(/phase stopped/);
  }, 3 * MINUTE);

  it('needs its init: with node as PID 1 an orphan that dies stays a zombie, so the zombie checks can fail', async () => {
    // sh starts `sleep` in the background and exits: the sleep is orphaned and
    // re-parented to PID 1, as Chrome's renderers are when the browser dies.
    // SIGUSR1 makes node log `tick`: proof that it has run its event loop
    // (and handled any SIGCHLD) since the orphan died.
    const script = [
      "const { execFileSync } = require('node:child_process');",
      "execFileSync('sh', ['-c', 'sleep 600 >/dev/null 2>&1 &']);",
      "process.on('SIGUSR1', () => console.log('tick'));",
      "console.log('orphaned');",
      'setInterval(() => undefined, 60_000);',
    ].join('\n');
    const orphanIn = async (variant: string, extra: string[], command: string[]) => {
      const name = `edu-agents-orphan-${variant}-${RUN_ID}`;
      containers.push(name);
      await podman(['run', '--detach', '--name', name, '--read-only', '--tmpfs', '/tmp', '--user', String(UID), ...extra, IMAGE, ...command]);
      await waitFor(async () => (await podman(['logs', name])).includes('orphaned'), `${name} to orphan its sleep`);
      const sleep = (await processesOf(name)).find((p) => p.command === 'sleep 600');
      if (!sleep) throw new Error(`no orphaned sleep in ${name}:\n${describeProcesses(await processesOf(name))}`);
      process.kill(sleep.hostPid, 'SIGKILL');
      return { name, sleep };
    };

    const underTini = await orphanIn('tini', [], ['node', '-e', script]);
    await waitFor(async () => !(await processesOf(underTini.name)).some((p) => p.pid === underTini.sleep.pid), 'tini to reap the dead orphan');

    const underNode = await orphanIn('node', ['--entrypoint', 'node'], ['-e', script]);
    await waitFor(async () => (await processesOf(underNode.name)).some((p) => p.pid === underNode.sleep.pid && p.state === 'Z'), 'the dead orphan to be a zombie');
    await podman(['kill', '--signal', 'USR1', underNode.name]);
    await waitFor(async () => (await podman(['logs', underNode.name])).includes('tick'), 'node to run its event loop after the orphan died');
    expect(zombies(await processesOf(underNode.name)).map((p) => p.pid)).toEqual([underNode.sleep.pid]);
    await removeByName('container', [underTini.name, underNode.name]);
  }, 2 * MINUTE);
});

describe('deployment/k8s under podman kube play --network host', () => {
  const suffix = `-${RUN_ID}`;
  const container = podSpec.containers[0];
  const podName = `${deployment.metadata.name}-pod-0`;
  const containerName = `${podName}-${container.name}`;
  let dir: string;
  let yamlFile: string;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edu-kube-'));
    port = await freePort();
    // What `kustomize edit set image` does for a release, here with the image just built.
    const [override] = loadKustomization().images ?? [];
    const { name, tag } = parseImage(IMAGE);
    const objects = renderKustomization(undefined, [{ name: override.name, newName: name, newTag: tag }]);
    const rendered = objects.find((o) => o.kind === 'Deployment') as K8sObject;
    expect(podSpecOf(rendered).containers[0].image).toBe(IMAGE);
    yamlFile = join(dir, 'edu-agents.yaml');
    writeFileSync(yamlFile, toYaml(objects.map((o) => (o === rendered ? deploymentForPodmanHostNetwork(o, port, suffix) : o))));
  });

  afterAll(async () => {
    await run('podman', ['kube', 'down', yamlFile]);
    await removeByName('pod', [podName]);
    await removeByName('volume', (podSpec.volumes ?? []).map((v) => `${v.name}${suffix}`));
    rmSync(dir, { recursive: true, force: true });
  }, 2 * MINUTE);

  it('runs the pod until it answers 200 on every probe path of the manifest', async () => {
    const played = await run('podman', ['kube', 'play', '--network', 'host', yamlFile]);
    expect(played).toMatchObject({ code: 0 });
    const paths = [...new Set([container.startupProbe, container.readinessProbe, container.livenessProbe].map((probe) => probe?.httpGet?.path ?? 'no httpGet probe'))];
    expect(paths.sort()).toEqual(['/health/live', '/health/ready']);
    for (const path of paths) {
      await waitFor(async () => ((await httpRequest(port, 'GET', path)).status === 200 ? true : undefined), `${path} to answer 200 in the pod`, 3 * MINUTE);
    }
    const processes = await processesOf(containerName);
    expect(processes[0]).toMatchObject({ pid: 1, command: expect.stringMatching(/^\/usr\/bin\/tini /) });
    expect(processes.filter((p) => p.uid !== UID)).toEqual([]);
    expect(await inspectContainer(containerName)).toMatchObject({ readOnly: true, user: `${UID}:${UID}` });
    expect((await postQc(port, '/qc/check', LESSON)).status).toBe(200);
  }, 5 * MINUTE);

  it('stops the pod as the kubelet does: readiness 503 while live, exit 0 within the grace period; kube down removes it', async () => {
    // podman 4.3's `kube down` stops with a timeout of 0 (SIGKILL at once; podman 5.1 waits);
    // `pod stop` with the manifest's grace period is what the kubelet does.
    const stop = run('podman', ['pod', 'stop', '--time', String(GRACE_SECONDS), podName]);
    await waitFor(async () => {
      const [ready, live] = await Promise.all([httpRequest(port, 'GET', '/health/ready'), httpRequest(port, 'GET', '/health/live')]);
      return ready.status === 503 && live.status === 200 ? true : undefined;
    }, 'readiness 503 with liveness 200 during the shutdown delay', 30_000);
    const stopped = await stop;
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(GRACE_SECONDS * 1_000);
    expect(await inspectContainer(containerName)).toMatchObject({ exitCode: 0 });
    expect(await podman(['logs', containerName])).toMatch(/"msg":"phase stopped"/);

    const down = await run('podman', ['kube', 'down', yamlFile]);
    expect(down.code).toBe(0);
    expect((await run('podman', ['pod', 'exists', podName])).code).toBe(1);
    const volumes = await podman(['volume', 'ls', '--quiet']);
    expect(volumes.split('\n').filter((v) => v.endsWith(suffix))).toEqual([]);
  }, 3 * MINUTE);
});
