import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { KUSTOMIZATION_FILE, loadKustomization, parseImage, podSpecOf, renderKustomization, type K8sObject } from './support/container-kustomization';
import { DEPLOYMENT_DIR } from '@edu-agents/e2e-support';

// Every manifest in deployment/k8s against the Kubernetes schemas
// (kubernetes-models), and the numbers that have to agree across them.

const K8S_DIR = join(DEPLOYMENT_DIR, 'k8s');

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };

const validators: Record<string, (manifest: Manifest) => void> = {
  'apps/v1 Deployment': (m) => new Deployment(m as never).validate(),
  'v1 Service': (m) => new Service(m as never).validate(),
  'policy/v1 PodDisruptionBudget': (m) => new PodDisruptionBudget(m as never).validate(),
};

function loadManifests(): { file: string; manifest: Manifest }[] {
  return readdirSync(K8S_DIR)
    .filter((file) => /\.ya?ml$/.test(file) && file !== KUSTOMIZATION_FILE)
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return { file, manifest: doc.toJS() as Manifest };
      }),
    );
}

function validate(manifest: Manifest): void {
  const validator = validators[`${manifest.apiVersion} ${manifest.kind}`];
  if (!validator) throw new Error(`no schema check for ${manifest.apiVersion} ${manifest.kind}; add one`);
  validator(manifest);
}

const manifests = loadManifests();
const find = <T>(kind: string): T => {
  const found = manifests.filter(({ manifest }) => manifest.kind === kind);
  expect(found).toHaveLength(1);
  return found[0].manifest as unknown as T;
};

describe('Kubernetes manifests in deployment/k8s', () => {
  it('hold a Deployment, a Service and a PodDisruptionBudget', () => {
    expect(manifests.map(({ manifest }) => manifest.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service']);
  });

  it.each(manifests.map(({ file, manifest }) => [`${file} (${manifest.kind})`, manifest] as const))(
    '%s is valid against the Kubernetes schema',
    (_name, manifest) => {
      expect(() => validate(manifest)).not.toThrow();
    },
  );

  it('rejects a Deployment that breaks the schema, so the check above can fail', () => {
    const broken = structuredClone(find<Manifest & { spec: { replicas: unknown } }>('Deployment'));
    broken.spec.replicas = 'two';
    expect(() => validate(broken)).toThrow(/replicas must be integer/);
  });

  describe('the Deployment', () => {
    const deployment = find<Deployment>('Deployment');
    const pod = deployment.spec?.template.spec;
    const container = pod?.containers[0];
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));

    it('rolls one pod at a time without ever dropping below the desired count', () => {
      expect(deployment.spec?.strategy?.type).toBe('RollingUpdate');
      expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
      expect(deployment.spec?.strategy?.rollingUpdate?.maxSurge).toBe(1);
      expect(deployment.spec?.replicas).toBeGreaterThanOrEqual(2);
    });

    it('probes startup and readiness on /health/ready and liveness on /health/live', () => {
      expect(container?.startupProbe?.httpGet?.path).toBe('/health/ready');
      expect(container?.readinessProbe?.httpGet?.path).toBe('/health/ready');
      expect(container?.livenessProbe?.httpGet?.path).toBe('/health/live');
      const ports = (container?.ports ?? []).map((p) => p.name);
      for (const probe of [container?.startupProbe, container?.readinessProbe, container?.livenessProbe]) {
        expect(ports).toContain(probe?.httpGet?.port);
      }
      expect(String(container?.ports?.[0].containerPort)).toBe(env['PORT']);
    });

    it('lets the whole drain finish before the kubelet kills: delay + timeout + Chrome close < grace period', () => {
      const delay = Number(env['SHUTDOWN_DELAY_MS']);
      const drain = Number(env['SHUTDOWN_TIMEOUT_MS']);
      const close = Number(env['QC_CLOSE_TIMEOUT_MS']);
      expect([delay, drain, close].every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
      // Endpoint removal lags SIGTERM: keep serving for a while first.
      expect(delay).toBeGreaterThanOrEqual(5_000);
      expect(delay + drain + close).toBeLessThan((pod?.terminationGracePeriodSeconds ?? 30) * 1_000);
      // A readiness failure must be seen within the delay.
      const readiness = container?.readinessProbe;
      expect((readiness?.periodSeconds ?? 10) * (readiness?.failureThreshold ?? 3) * 1_000).toBeLessThanOrEqual(delay);
      expect(Number(env['KEEP_ALIVE_TIMEOUT_MS'])).toBeLessThan(Number(env['HEADERS_TIMEOUT_MS']));
    });

    it('gives Chrome a memory-backed /dev/shm', () => {
      const mount = container?.volumeMounts?.find((m) => m.mountPath === '/dev/shm');
      const volume = pod?.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.emptyDir?.medium).toBe('Memory');
    });

    it('runs as a non-root user without privilege escalation, with resources set', () => {
      expect(pod?.securityContext?.runAsNonRoot).toBe(true);
      expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(container?.securityContext?.allowPrivilegeEscalation).toBe(false);
      expect(container?.securityContext?.capabilities?.drop).toEqual(['ALL']);
      expect(container?.resources?.requests).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
      expect(container?.resources?.limits?.['memory']).toBeDefined();
    });

    it('runs node on the built API directly, under the image\'s init (args, not command)', () => {
      expect(container?.args).toEqual(['node', 'dist/apps/api/main.js']);
      expect(container?.command).toBeUndefined();
    });
  });

  it('points the Service and the PodDisruptionBudget at the Deployment pods', () => {
    const labels = find<Deployment>('Deployment').spec?.template.metadata?.labels ?? {};
    const service = find<Service>('Service');
    const pdb = find<PodDisruptionBudget>('PodDisruptionBudget');
    for (const [key, value] of Object.entries(service.spec?.selector ?? {})) expect(labels[key]).toBe(value);
    for (const [key, value] of Object.entries(pdb.spec?.selector?.matchLabels ?? {})) expect(labels[key]).toBe(value);
    expect(Object.keys(service.spec?.selector ?? {}).length).toBeGreaterThan(0);
    expect(service.spec?.ports?.[0].targetPort).toBe('http');
    expect(pdb.spec?.minAvailable).toBe(1);
  });
});

describe('deployment/k8s/kustomization.yaml', () => {
  const kustomization = loadKustomization();
  const deploymentImage = find<Deployment>('Deployment').spec?.template.spec?.containers[0].image ?? '';
  const renderedImage = (overrides?: Parameters<typeof renderKustomization>[1]) =>
    podSpecOf(renderKustomization(undefined, overrides).find((o) => o.kind === 'Deployment') as K8sObject).containers[0].image;

  it('lists every manifest of the directory, so `kubectl apply -k` applies them all', () => {
    expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
    expect([...kustomization.resources].sort()).toEqual([...new Set(manifests.map(({ file }) => file))].sort());
  });

  it('names the image in one place: its images: entry turns the Deployment\'s placeholder into registry and tag', () => {
    expect(parseImage(deploymentImage)).toEqual({ name: deploymentImage, tag: undefined, digest: undefined });
    expect(kustomization.images).toEqual([{ name: deploymentImage, newName: expect.stringMatching(/\//), newTag: expect.any(String) }]);
    const [override] = kustomization.images ?? [];
    expect(renderedImage()).toBe(`${override.newName}:${override.newTag}`);
  });

  it('lets a release replace registry and tag the way `kustomize edit set image` does', () => {
    expect(renderedImage([{ name: deploymentImage, newName: 'registry.internal/qc/api', newTag: '2.3.4' }])).toBe('registry.internal/qc/api:2.3.4');
    expect(renderedImage([{ name: 'some/other-image', newTag: '9' }])).toBe(renderedImage());
  });
});
