/**
 * Turns a pod spec rendered by the Helm chart into a `podman run` command line, doing what the kubelet would
 * for the parts the chart uses: the container's command and args, env (values and the downward API), user and
 * groups, read-only root, capabilities, no-new-privileges, memory limit, volumes, and the service-account
 * mount with the in-cluster service variables. Anything else in the spec is refused rather than dropped, so
 * the image test can never run a container that differs silently from what the chart deploys.
 */

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  securityContext?: SecurityContext;
  resources?: { limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface Volume {
  name: string;
  emptyDir?: object;
  configMap?: { name: string };
  secret?: { secretName: string };
}
export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext;
  containers: Container[];
  volumes?: Volume[];
}

export interface PodRunInput {
  readonly spec: PodSpec;
  readonly image: string;
  /** The pod's name and namespace, for the downward API. */
  readonly podName: string;
  readonly namespace: string;
  /** Host directories holding each configMap or secret volume's files, by volume name. */
  readonly volumeDirs: Readonly<Record<string, string>>;
  /** Host directory with token, ca.crt and namespace, mounted where the kubelet mounts them. */
  readonly serviceAccountDir: string;
  /** The API server as the in-cluster variables name it. */
  readonly apiServer: { readonly host: string; readonly port: string };
  /** The host's limits: the container may not raise them. */
  readonly maxOpenFiles: number;
}

const SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const FIELDS: Record<string, (i: PodRunInput) => string> = {
  'metadata.name': (i) => i.podName,
  'metadata.namespace': (i) => i.namespace,
  'spec.serviceAccountName': (i) => i.spec.serviceAccountName ?? 'default',
};

function envArgs(input: PodRunInput, env: readonly EnvVar[]): string[] {
  return env.flatMap((e) => {
    if (e.value !== undefined) return ['--env', `${e.name}=${e.value}`];
    const path = e.valueFrom?.fieldRef?.fieldPath;
    const field = path === undefined ? undefined : FIELDS[path];
    if (!field) throw new Error(`env ${e.name}: only values and fieldRef ${Object.keys(FIELDS).join(', ')} are run`);
    return ['--env', `${e.name}=${field(input)}`];
  });
}

function securityArgs(pod: SecurityContext, c: SecurityContext): string[] {
  const user = c.runAsUser ?? pod.runAsUser;
  const group = c.runAsGroup ?? pod.runAsGroup;
  if ((c.runAsNonRoot ?? pod.runAsNonRoot) && (user === undefined || user === 0))
    throw new Error('runAsNonRoot needs a non-zero runAsUser: the kubelet would refuse to start it');
  const args: string[] = [];
  if (user !== undefined) args.push('--user', group === undefined ? `${user}` : `${user}:${group}`);
  if (pod.fsGroup !== undefined) args.push('--group-add', String(pod.fsGroup));
  // Without --read-only-tmpfs=false podman adds writable /tmp, /run and /var/tmp the kubelet would not.
  if (c.readOnlyRootFilesystem) args.push('--read-only', '--read-only-tmpfs=false');
  if (c.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  for (const cap of c.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of c.capabilities?.add ?? []) args.push('--cap-add', cap);
  const seccomp = c.seccompProfile?.type ?? pod.seccompProfile?.type;
  if (seccomp !== undefined && seccomp !== 'RuntimeDefault') throw new Error(`seccompProfile ${seccomp} is not run`);
  return args;
}

function volumeArgs(input: PodRunInput, c: Container): string[] {
  return (c.volumeMounts ?? []).flatMap((m) => {
    const volume = input.spec.volumes?.find((v) => v.name === m.name);
    if (!volume) throw new Error(`volumeMount ${m.name} names no volume`);
    if (volume.emptyDir) return ['--mount', `type=tmpfs,destination=${m.mountPath},tmpfs-mode=1777`];
    const dir = input.volumeDirs[m.name];
    if ((volume.configMap || volume.secret) && dir) return ['--volume', `${dir}:${m.mountPath}:ro`];
    throw new Error(`volume ${m.name}: give its files in volumeDirs (configMap and secret volumes only)`);
  });
}

/**
 * The keys each object may have: what is run, plus what only the scheduler or the kubelet's probes read (the
 * test checks readiness itself; the host network needs no ports). Any other key is refused, so a field the chart
 * adds later cannot be dropped silently.
 */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  pod: [
    'serviceAccountName',
    'automountServiceAccountToken',
    'securityContext',
    'containers',
    'volumes',
    'terminationGracePeriodSeconds',
    'topologySpreadConstraints',
    'nodeSelector',
    'tolerations',
    'affinity',
    'priorityClassName',
    'imagePullSecrets',
  ],
  container: [
    'name',
    'image',
    'imagePullPolicy',
    'command',
    'args',
    'env',
    'securityContext',
    'resources',
    'volumeMounts',
    'ports',
    'livenessProbe',
    'readinessProbe',
  ],
  resources: ['requests', 'limits'],
  volumeMount: ['name', 'mountPath', 'readOnly'],
  volume: ['name', 'emptyDir', 'configMap', 'secret'],
};

function refuseUnknown(what: keyof typeof KNOWN_KEYS, object: object): void {
  const unknown = Object.keys(object).filter((k) => !KNOWN_KEYS[what]?.includes(k));
  if (unknown.length > 0) throw new Error(`${what}: ${unknown.join(', ')} would not be run`);
}

/** The arguments after `podman run` for the pod's only container. */
export function podRunArgs(input: PodRunInput): string[] {
  const { spec } = input;
  if (spec.containers.length !== 1) throw new Error(`expected one container, found ${spec.containers.length}`);
  const [c] = spec.containers as [Container];
  refuseUnknown('pod', spec);
  refuseUnknown('container', c);
  refuseUnknown('resources', c.resources ?? {});
  for (const m of c.volumeMounts ?? []) refuseUnknown('volumeMount', m);
  for (const v of spec.volumes ?? []) refuseUnknown('volume', v);
  if (Object.keys(c.resources?.limits ?? {}).some((k) => k !== 'memory' && k !== 'cpu'))
    throw new Error('only cpu and memory limits are run');
  const memory = c.resources?.limits?.memory;
  return [
    '--rm',
    '--name',
    input.podName,
    // The API server and Prometheus listen on the host's loopback.
    '--network',
    'host',
    // A process inside may not raise limits over the host's hard limits (runc refuses the container).
    '--ulimit',
    `nofile=${input.maxOpenFiles}:${input.maxOpenFiles}`,
    '--ulimit',
    'nproc=4096:4096',
    ...securityArgs(spec.securityContext ?? {}, c.securityContext ?? {}),
    ...(memory ? ['--memory', memory.replace(/i$/, '').toLowerCase()] : []),
    '--env',
    `KUBERNETES_SERVICE_HOST=${input.apiServer.host}`,
    '--env',
    `KUBERNETES_SERVICE_PORT=${input.apiServer.port}`,
    ...envArgs(input, c.env ?? []),
    ...(spec.automountServiceAccountToken === false ? [] : ['--volume', `${input.serviceAccountDir}:${SA_PATH}:ro`]),
    ...volumeArgs(input, c),
    ...(c.command ? ['--entrypoint', JSON.stringify(c.command)] : []),
    input.image,
    ...(c.args ?? []),
  ];
}
