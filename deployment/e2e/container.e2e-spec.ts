import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
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
  inspectContainer,
  isChromeBrowser,
  isChromeRenderer,
  podman,
  processesInNamespaceOf,
  removeByName,
  run,
  type ContainerProcess,
} from './support/container-podman';
import { freePort, httpRequest, waitFor, waitReady, type HttpAnswer } from '@edu-agents/e2e-support';

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

type Health = { details: { shutdown: { phase: string; inFlight: number } } };
const getJson = async <T>(port: number, path: string): Promise<{ status: number; body: T }> => {
  const answer = await httpRequest(port, 'GET', path);
  return { status: answer.status, body: JSON.parse(answer.body) as T };
};
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

/**
 * A POST whose body is held back after its first bytes, so the request is
 * in flight in the API for as long as the test wants; `finish()` sends the rest.
 */
function heldPost(port: number, path: string, body: string): { finish: () => void; answer: Promise<HttpAnswer> } {
  const payload = Buffer.from(body);
  const started = Date.now();
  const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { 'content-type': 'application/json', 'content-length': payload.length } });
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: Date.now() - started }));
    });
    req.on('error', reject);
  });
  req.write(payload.subarray(0, 8));
  return { finish: () => void req.end(payload.subarray(8)), answer };
}

/** `podman stop` with the pod's grace period; resolves with how long it took and how the container ended. */
async function stopContainer(name: string): Promise<{ ms: number; exitCode: number; log: string }> {
  const stopped = await run('podman', ['stop', '--time', String(GRACE_SECONDS), name]);
  if (stopped.code !== 0) throw new Error(`podman stop ${name} exited ${stopped.code}: ${stopped.stderr}`);
  const { exitCode } = await inspectContainer(name);
  return { ms: stopped.ms, exitCode, log: await podman(['logs', name]) };
}

beforeAll(async () => {
  const built = await buildImage(IMAGE);
  images.push(IMAGE);
  if (built.baseBuilt) images.push(built.baseImage); // this run made the base, so it removes it too
}, 20 * MINUTE);

afterAll(async () => {
  await removeByName('container', containers);
  if (process.env['CONTAINER_E2E_KEEP_IMAGES'] !== '1') {
    for (const image of images) await run('podman', ['rmi', '--force', image]);
  }
}, 5 * MINUTE);

describe('the image', () => {
  it('runs node on the built API as uid 10001 under an init, with the environment the contract names', async () => {
    const [config] = JSON.parse(await podman(['image', 'inspect', IMAGE])) as { Config: { User: string; Entrypoint: string[]; Cmd: string[]; Env: string[]; WorkingDir: string } }[];
    expect(config.Config.User).toBe(`${UID}:${UID}`);
    expect(config.Config.Entrypoint).toEqual(['/usr/bin/tini', '-s', '--']);
    expect(config.Config.Cmd).toEqual(['node', 'dist/apps/api/main.js']);
    expect(config.Config.WorkingDir).toBe(podSpec.containers[0].workingDir);
    expect(config.Config.Env).toEqual(expect.arrayContaining(['CHROME_PATH=/usr/bin/chromium', 'HOST=0.0.0.0', 'HANDOFF_ENABLED=false', 'HOME=/tmp']));
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

  it('finishes a request in flight at podman stop, then exits 0 well within the grace period', async () => {
    const held = heldPost(port, '/qc/check', JSON.stringify({ html: `${LESSON}<p>in flight</p>` }));
    await waitFor(async () => ((await getJson<Health>(port, '/health')).body.details.shutdown.inFlight === 1 ? true : undefined), 'the held request to be in flight');

    const stop = stopContainer(name);
    await waitFor(async () => {
      const health = await getJson<Health>(port, '/health');
      return health.status === 503 && health.body.details.shutdown.phase === 'draining' ? true : undefined;
    }, 'the API to start draining on the SIGTERM that podman stop sends through tini', 30_000);
    held.finish();
    const answer = await held.answer;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: true, cached: false });

    const stopped = await stop;
    expect(stopped.exitCode).toBe(0); // 137 would be podman's SIGKILL at the end of the grace period
    expect(stopped.ms).toBeLessThan(GRACE_SECONDS * 1_000);
    expect(stopped.log).toMatch(/phase stopped/);
  }, 3 * MINUTE);

  it('without the init (node as PID 1), the same crash leaves zombies: the zombie check can fail', async () => {
    const control = `edu-agents-api-noinit-${RUN_ID}`;
    const controlPort = await freePort();
    const processes = await startContainer(control, controlPort, ['--entrypoint', 'node'], ['dist/apps/api/main.js']);
    expect(processes[0]).toMatchObject({ pid: 1, command: 'node dist/apps/api/main.js' });
    await crashChrome(control, controlPort);
    const left = await waitFor(async () => {
      const z = zombies(await processesOf(control));
      return z.length > 0 ? z : undefined;
    }, 'orphans of the killed Chrome to turn into zombies under node', 10_000);
    expect((await postQc(controlPort, '/qc/check', LESSON)).status).toBe(200);
    const still = zombies(await processesOf(control)).map((p) => p.pid);
    expect(still).toEqual(expect.arrayContaining(left.map((p) => p.pid)));
    await removeByName('container', [control]);
  }, 5 * MINUTE);
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
