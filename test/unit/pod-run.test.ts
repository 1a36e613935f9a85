import { describe, expect, it } from 'vitest';
import { podRunArgs, type PodRunInput, type PodSpec } from '../support/pod-run.ts';

const spec: PodSpec = {
  serviceAccountName: 'op',
  securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 },
  containers: [
    {
      name: 'operator',
      args: ['run', '--leader-elect=true'],
      env: [
        { name: 'A', value: 'b=c' },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
      securityContext: {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
      resources: { limits: { memory: '512Mi' } },
      volumeMounts: [
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'certs', mountPath: '/etc/certs', readOnly: true },
      ],
    },
  ],
  volumes: [
    { name: 'tmp', emptyDir: {} },
    { name: 'certs', secret: { secretName: 's' } },
  ],
};
const input: PodRunInput = {
  spec,
  image: 'localhost/img:test',
  podName: 'op-0',
  namespace: 'sys',
  volumeDirs: { certs: '/h/certs' },
  serviceAccountDir: '/h/sa',
  apiServer: { host: '127.0.0.1', port: '6443' },
  maxOpenFiles: 1024,
};

describe('podRunArgs', () => {
  it('refuses an init container rather than skip it', () => {
    expect(() => podRunArgs({ ...input, spec: { ...spec, initContainers: [] } as PodSpec })).toThrow(
      /initContainers would not be run/,
    );
  });

  it('runs what the kubelet would: user, groups, read-only root, capabilities, env, mounts, args', () => {
    expect(podRunArgs(input)).toEqual([
      '--rm',
      '--name',
      'op-0',
      '--network',
      'host',
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=4096:4096',
      '--user',
      '65532:65532',
      '--group-add',
      '65532',
      '--read-only',
      '--read-only-tmpfs=false',
      '--security-opt',
      'no-new-privileges',
      '--cap-drop',
      'ALL',
      '--memory',
      '512m',
      '--env',
      'KUBERNETES_SERVICE_HOST=127.0.0.1',
      '--env',
      'KUBERNETES_SERVICE_PORT=6443',
      '--env',
      'A=b=c',
      '--env',
      'NS=sys',
      '--env',
      'ID=op-0',
      '--volume',
      '/h/sa:/var/run/secrets/kubernetes.io/serviceaccount:ro',
      '--mount',
      'type=tmpfs,destination=/tmp,tmpfs-mode=1777',
      '--volume',
      '/h/certs:/etc/certs:ro',
      'localhost/img:test',
      'run',
      '--leader-elect=true',
    ]);
  });

  it('keeps the image entrypoint unless the spec sets a command', () => {
    const c = spec.containers[0];
    const withCommand = { ...input, spec: { ...spec, containers: [{ ...c, name: 'x', command: ['node', 'x.js'] }] } };
    const args = podRunArgs(withCommand);
    expect(args.slice(args.indexOf('--entrypoint'), args.indexOf('--entrypoint') + 2)).toEqual([
      '--entrypoint',
      '["node","x.js"]',
    ]);
    expect(podRunArgs(input)).not.toContain('--entrypoint');
  });

  it.each([
    [
      'a fieldRef the kubelet resolves from status',
      { env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] },
      /env IP/,
    ],
    ['runAsNonRoot with root', { securityContext: { runAsUser: 0, runAsNonRoot: true } }, /runAsNonRoot/],
    ['a mount without its volume', { volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, /names no volume/],
    ['a secret volume without its files', { volumeMounts: [{ name: 'certs', mountPath: '/x' }] }, /volumeDirs/],
    ['a custom seccomp profile', { securityContext: { seccompProfile: { type: 'Localhost' } } }, /seccomp/],
    ['envFrom, which it would not pass', { envFrom: [{ configMapRef: { name: 'x' } }] }, /envFrom would not be run/],
    ['a workingDir', { workingDir: '/x' }, /workingDir would not be run/],
    ['a subPath mount', { volumeMounts: [{ name: 'tmp', mountPath: '/x', subPath: 'y' }] }, /subPath/],
  ])('refuses %s rather than run something else', (_name, patch, error) => {
    const c = { ...spec.containers[0], name: 'operator', ...patch };
    expect(() => podRunArgs({ ...input, volumeDirs: {}, spec: { ...spec, containers: [c] } })).toThrow(error);
  });
});
