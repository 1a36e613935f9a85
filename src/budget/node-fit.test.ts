import { describe, expect, it } from 'vitest';
import { readAdmittedPod, type AdmittedPod } from './admitted-pod.ts';
import { fitsNode, tolerates, type FitNode } from './node-fit.ts';

const NODE: FitNode = {
  name: 'gpu-1',
  labels: {
    'node.kubernetes.io/instance-type': 'p4d.24xlarge',
    'kubernetes.io/os': 'linux',
    pool: 'a100',
    'nvidia.com/gpu.memory': '40960',
  },
  taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
  gpuResources: { 'nvidia.com/gpu': 8 },
  cpuMillis: 96_000,
  memoryBytes: 1152 * 2 ** 30,
};
const TOLERATES_GPU = [{ key: 'nvidia.com/gpu', operator: 'Exists' }];

/**
 * A pod of one container with these spec fields, limits and requests, read as the webhook reads it (the API
 * server has defaulted its requests from its limits before admission).
 */
const pod = (
  spec: Record<string, unknown> = {},
  limits: Record<string, string> = { 'nvidia.com/gpu': '1' },
  requests: Record<string, string> = {},
) =>
  readAdmittedPod({
    spec: { containers: [{ name: 'c', resources: { limits, requests } }], tolerations: TOLERATES_GPU, ...spec },
  });
const required = (...terms: unknown[]) => ({
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
});
const expr = (key: string, operator: string, values?: string[]) => ({
  matchExpressions: [{ key, operator, ...(values ? { values } : {}) }],
});

describe('fitsNode', () => {
  it.each<[string, AdmittedPod, boolean]>([
    ['a pod that tolerates the GPU taint', pod(), true],
    ['the GPU taint not tolerated', pod({ tolerations: [] }), false],
    [
      'nodeSelector on a label the node has',
      pod({ nodeSelector: { pool: 'a100', 'kubernetes.io/os': 'linux' } }),
      true,
    ],
    ['nodeSelector on another value', pod({ nodeSelector: { pool: 'h100' } }), false],
    ['nodeSelector on a label the node lacks', pod({ nodeSelector: { zone: 'a' } }), false],
    ['In', pod(required(expr('pool', 'In', ['h100', 'a100']))), true],
    ['In, another value', pod(required(expr('pool', 'In', ['h100']))), false],
    ['NotIn', pod(required(expr('pool', 'NotIn', ['h100']))), true],
    ['NotIn on a label the node lacks', pod(required(expr('zone', 'NotIn', ['a']))), true],
    ['NotIn its value', pod(required(expr('pool', 'NotIn', ['a100']))), false],
    ['Exists', pod(required(expr('pool', 'Exists'))), true],
    ['Exists, absent', pod(required(expr('zone', 'Exists'))), false],
    ['DoesNotExist', pod(required(expr('zone', 'DoesNotExist'))), true],
    ['DoesNotExist, present', pod(required(expr('pool', 'DoesNotExist'))), false],
    ['Gt', pod(required(expr('nvidia.com/gpu.memory', 'Gt', ['40000']))), true],
    ['Lt', pod(required(expr('nvidia.com/gpu.memory', 'Lt', ['40000']))), false],
    ['Gt on a value that is not a number', pod(required(expr('pool', 'Gt', ['1']))), false],
    ['an unknown operator', pod(required(expr('pool', 'Near', ['a100']))), false],
    ['terms are ORed', pod(required(expr('pool', 'In', ['h100']), expr('pool', 'In', ['a100']))), true],
    [
      'the requirements of a term are ANDed',
      pod(
        required({
          matchExpressions: [...expr('pool', 'Exists').matchExpressions, ...expr('zone', 'Exists').matchExpressions],
        }),
      ),
      false,
    ],
    ['an empty term matches nothing', pod(required({})), false],
    ['no terms match nothing', pod(required()), false],
    [
      'matchFields on the name',
      pod(required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['gpu-1'] }] })),
      true,
    ],
    ['matchFields on another field', pod(required({ matchFields: [{ key: 'spec.x', operator: 'Exists' }] })), false],
    [
      'nodeSelector and affinity both hold',
      pod({ nodeSelector: { pool: 'a100' }, ...required(expr('pool', 'In', ['h100'])) }),
      false,
    ],
    ['all 8 GPUs', pod({}, { 'nvidia.com/gpu': '8' }), true],
    ['more GPUs than the node has', pod({}, { 'nvidia.com/gpu': '9' }), false],
    ['a MIG profile the node does not offer', pod({}, { 'nvidia.com/mig-1g.5gb': '1' }), false],
    ['its CPU fits', pod({}, undefined, { cpu: '96' }), true],
    ['more CPU than allocatable', pod({}, undefined, { cpu: '97' }), false],
    ['more memory than allocatable', pod({}, undefined, { memory: '2Ti' }), false],
  ])('%s', (_name, p, expected) => {
    expect(fitsNode(p, NODE)).toBe(expected);
  });

  it('ignores PreferNoSchedule taints and checks NoExecute ones', () => {
    const soft = { ...NODE, taints: [{ key: 'x', value: '', effect: 'PreferNoSchedule' }] };
    const hard = { ...NODE, taints: [{ key: 'x', value: '', effect: 'NoExecute' }] };
    expect(fitsNode(pod({ tolerations: [] }), soft)).toBe(true);
    expect(fitsNode(pod({ tolerations: [] }), hard)).toBe(false);
  });
});

describe('tolerates', () => {
  const taint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };
  const t = (over: Partial<Record<'key' | 'operator' | 'value' | 'effect', string>>) => ({
    key: '',
    operator: '',
    value: '',
    effect: '',
    ...over,
  });
  it.each<[string, ReturnType<typeof t>, boolean]>([
    ['Exists on the key', t({ key: 'nvidia.com/gpu', operator: 'Exists' }), true],
    ['Equal on the value', t({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present' }), true],
    ['the operator defaults to Equal', t({ key: 'nvidia.com/gpu', value: 'present' }), true],
    ['Equal on another value', t({ key: 'nvidia.com/gpu', value: 'absent' }), false],
    ['another key', t({ key: 'gpu', operator: 'Exists' }), false],
    ['Exists without a key tolerates everything', t({ operator: 'Exists' }), true],
    ['no key with Equal tolerates nothing', t({ value: 'present' }), false],
    ['the same effect', t({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }), true],
    ['another effect', t({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }), false],
  ])('%s', (_name, toleration, expected) => {
    expect(tolerates(toleration, taint)).toBe(expected);
  });
});

describe('readAdmittedPod', () => {
  it('reads the effective requests, the GPU resources in limits, and the scheduling fields', () => {
    expect(
      readAdmittedPod({
        spec: {
          containers: [
            { resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { 'nvidia.com/gpu': '2' } } },
            { resources: { requests: { cpu: '500m' } } },
          ],
          initContainers: [{ resources: { requests: { cpu: '8' } } }],
          nodeSelector: { pool: 'a100', bad: 7 },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }, 'x'],
          activeDeadlineSeconds: 7200,
        },
      }),
    ).toEqual({
      gpu: true,
      gpuRequests: { 'nvidia.com/gpu': 2 },
      cpuMillis: 8000,
      memoryBytes: 16 * 2 ** 30,
      nodeSelector: { pool: 'a100' },
      requiredTerms: undefined,
      tolerations: [
        { key: 'nvidia.com/gpu', operator: 'Exists', value: '', effect: '' },
        { key: '', operator: '', value: '', effect: '' },
      ],
      activeDeadlineSeconds: 7200,
      tooComplex: false,
    });
  });

  it.each<[string, unknown, boolean]>([
    ['no containers', { spec: {} }, false],
    ['a CPU pod', { spec: { containers: [{ resources: { requests: { cpu: '1' } } }] } }, false],
    ['a GPU request of zero', { spec: { containers: [{ resources: { limits: { 'nvidia.com/gpu': '0' } } }] } }, false],
    [
      'a GPU in an init container',
      { spec: { initContainers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] } },
      true,
    ],
    ['a MIG slice', { spec: { containers: [{ resources: { requests: { 'nvidia.com/mig-1g.5gb': '1' } } }] } }, true],
    [
      'GPUs beyond exact integers',
      { spec: { containers: [{ resources: { limits: { 'nvidia.com/gpu': '1e30' } } }] } },
      true,
    ],
    ['garbage', 'x', false],
    ['containers that are not a list', { spec: { containers: 5 } }, false],
  ])('%s: requests GPUs: %s', (_name, object, gpu) => {
    expect(readAdmittedPod(object).gpu).toBe(gpu);
  });
});
