import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { DEPLOYMENT_DIR } from '@edu-agents/e2e-support';

export const K8S_DIR = join(DEPLOYMENT_DIR, 'k8s');
export const KUSTOMIZATION_FILE = 'kustomization.yaml';

/** One `images:` entry of a kustomization (the fields kustomize's image transformer reads). */
export interface ImageOverride {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

export interface Kustomization {
  apiVersion: string;
  kind: string;
  resources: string[];
  images?: ImageOverride[];
}

/** The parts of a Kubernetes container spec these tests read or adapt. */
export interface K8sContainer {
  name: string;
  image: string;
  workingDir?: string;
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: K8sProbe;
  readinessProbe?: K8sProbe;
  livenessProbe?: K8sProbe;
  volumeMounts?: { name: string; mountPath: string }[];
}
export interface K8sProbe {
  httpGet?: { path: string; port: string | number };
}
export interface K8sPodSpec {
  containers: K8sContainer[];
  initContainers?: K8sContainer[];
  volumes?: { name: string }[];
  terminationGracePeriodSeconds?: number;
}
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: { replicas?: number; template?: { spec: K8sPodSpec } };
}

/** The pod spec of a workload (Deployment); fails for an object that has none. */
export function podSpecOf(object: K8sObject): K8sPodSpec {
  const spec = object.spec?.template?.spec;
  if (!spec) throw new Error(`${object.kind} ${object.metadata.name} has no pod template`);
  return spec;
}

export function loadKustomization(dir = K8S_DIR): Kustomization {
  return parseAllDocuments(readFileSync(join(dir, KUSTOMIZATION_FILE), 'utf8'))[0].toJS() as Kustomization;
}

/** Splits `registry/name:tag@digest` into the name kustomize matches on, and the rest. */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = image.split('@');
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon === -1
    ? { name: withoutDigest, digest }
    : { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
}

/**
 * What kustomize's `images:` transformer makes of one container image: an
 * entry whose `name` equals the image's name (registry and path, without tag
 * or digest) replaces the name with `newName`, the tag with `newTag`, or pins
 * `digest`. Images no entry names stay as they are.
 */
export function applyImageOverrides(image: string, overrides: ImageOverride[]): string {
  const parsed = parseImage(image);
  const override = overrides.find((o) => o.name === parsed.name);
  if (!override) return image;
  const name = override.newName ?? parsed.name;
  if (override.digest) return `${name}@${override.digest}`;
  const tag = override.newTag ?? parsed.tag;
  return tag === undefined ? name : `${name}:${tag}`;
}

/**
 * The objects `kubectl apply -k` would send for the kustomization in `dir`,
 * for what this project's kustomization uses (resources and images), with
 * `extraOverrides` applied after its own `images:` like `kustomize edit set image`.
 */
export function renderKustomization(dir = K8S_DIR, extraOverrides: ImageOverride[] = []): K8sObject[] {
  const kustomization = loadKustomization(dir);
  const objects = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => doc.toJS() as K8sObject),
  );
  const own = kustomization.images ?? [];
  // `kustomize edit set image NAME=...` replaces the entry for NAME.
  const overrides = [...own.filter((o) => !extraOverrides.some((e) => e.name === o.name)), ...extraOverrides];
  for (const pod of objects.map((o) => o.spec?.template?.spec)) {
    for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      container.image = applyImageOverrides(container.image, overrides);
    }
  }
  return objects;
}

/**
 * The Deployment adapted to `podman kube play --network host` on podman 4.3,
 * with everything else left as shipped (probes' paths, env, security
 * context, volumes, resources):
 * - one replica: every replica would be a pod on the host's network, all
 *   binding the same port;
 * - PORT and the probes on `port`: pods share the host's network here, and
 *   the test picks a free port;
 * - no `ports:` list: podman 4.3 publishes every containerPort as a host port
 *   and refuses port mappings with host networking (podman 4.7 stopped
 *   publishing containerPort by default); the probes' named port becomes the
 *   number it stood for;
 * - volumes renamed with `volumeSuffix`: podman 4.3 makes each emptyDir a
 *   podman volume named after it, global on the host.
 */
export function deploymentForPodmanHostNetwork(deployment: K8sObject, port: number, volumeSuffix: string): K8sObject {
  const copy = structuredClone(deployment);
  const pod = podSpecOf(copy);
  copy.spec = { ...copy.spec, replicas: 1 };
  for (const container of pod.containers) {
    const named = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    for (const env of container.env ?? []) {
      if (env.name === 'PORT') env.value = String(port);
    }
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
      if (probe?.httpGet === undefined) continue;
      const shipped = typeof probe.httpGet.port === 'string' ? named[probe.httpGet.port] : probe.httpGet.port;
      if (shipped === undefined) throw new Error(`probe port ${probe.httpGet.port} is not a port of container ${container.name}`);
      probe.httpGet.port = port;
    }
    delete container.ports;
    for (const mount of container.volumeMounts ?? []) mount.name = `${mount.name}${volumeSuffix}`;
  }
  for (const volume of pod.volumes ?? []) volume.name = `${volume.name}${volumeSuffix}`;
  return copy;
}

/** Objects as one multi-document YAML file. */
export function toYaml(objects: K8sObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}
