import { describe, expect, it } from 'vitest';
import {
  assignGpus,
  gpuUuid,
  modelNameOf,
  newSimState,
  parsePattern,
  renderMetrics,
  simulate,
  utilizationAt,
  type GpuSample,
  type SimNode,
  type SimPod,
} from '../cluster/dcgm-model.ts';
import { parseTokenRates, renderInferenceMetrics, simulateInference } from '../cluster/inference-model.ts';

const at = (pattern: string, seconds: number) => utilizationAt(parsePattern(pattern), seconds);

describe('utilization patterns', () => {
  it('holds a constant percentage forever', () => {
    expect(at('73', 0)).toBe(73);
    expect(at('73', 86_400)).toBe(73);
    expect(at('12.5%', 10)).toBe(12.5);
  });

  it('steps through "90 for 10m, then 0"', () => {
    expect(at('90 for 10m, then 0', 0)).toBe(90);
    expect(at('90 for 10m, then 0', 599.9)).toBe(90);
    expect(at('90 for 10m, then 0', 600)).toBe(0);
    expect(at('90 for 10m, then 0', 7200)).toBe(0);
  });

  it('steps through several timed steps in s, m and h', () => {
    const p = '80 for 5m, 20 for 30s, 50 for 1h, then 7';
    expect(at(p, 299)).toBe(80);
    expect(at(p, 300)).toBe(20);
    expect(at(p, 329)).toBe(20);
    expect(at(p, 330)).toBe(50);
    expect(at(p, 330 + 3599)).toBe(50);
    expect(at(p, 330 + 3600)).toBe(7);
  });

  it('reads 0 once a pattern without "then" runs out, and before the start', () => {
    expect(at('50 for 30s', 31)).toBe(0);
    expect(at('50 for 30s', -5)).toBe(50);
  });

  it.each(['', 'abc', '101', '-5', '90 then 0', '50, 20', 'then 5', '90 for 10, then 0', '90 for 10d, then 0'])(
    'rejects %j',
    (pattern) => {
      expect(() => parsePattern(pattern)).toThrow();
    },
  );
});

describe('GPU assignment', () => {
  const claim = (uid: string, count: number) => ({ uid, namespace: 'ns', pod: uid, container: 'c', count });

  it('gives each claim the lowest free indexes, in order', () => {
    const got = assignGpus(8, [claim('a', 2), claim('b', 3), claim('c', 1)], new Map());
    expect(Object.fromEntries(got)).toEqual({ a: [0, 1], b: [2, 3, 4], c: [5] });
  });

  it('keeps indexes while the claim lives and reuses freed ones', () => {
    const first = assignGpus(4, [claim('a', 1), claim('b', 2)], new Map());
    const second = assignGpus(4, [claim('b', 2), claim('c', 2)], first); // a ended, c is new
    expect(second.get('b')).toEqual([1, 2]);
    expect(second.get('c')).toEqual([0, 3]);
  });

  it('gives nothing to a claim that does not fit, without disturbing the others', () => {
    const got = assignGpus(2, [claim('a', 1), claim('big', 2), claim('b', 1)], new Map());
    expect(got.has('big')).toBe(false);
    expect(Object.fromEntries(got)).toEqual({ a: [0], b: [1] });
  });
});

describe('dcgm-exporter text', () => {
  const busy: GpuSample = {
    node: 'p4d-1',
    index: 0,
    modelName: 'NVIDIA A100-SXM4-40GB',
    percent: 73,
    memoryMiB: 40960,
    owner: { namespace: 'ml', pod: 'trainer-0', container: 'main' },
  };
  const free: GpuSample = { node: 'p4d-1', index: 1, modelName: 'NVIDIA A100-SXM4-40GB', percent: 0, memoryMiB: 40960 };
  const text = renderMetrics([busy, free], { labelStyle: 'plain', hostnameLabel: 'Hostname' });
  const lines = text.trimEnd().split('\n');

  it('prints HELP and TYPE lines as dcgm-exporter does, then one line per GPU', () => {
    expect(lines).toContain('# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).');
    expect(lines).toContain('# TYPE DCGM_FI_DEV_GPU_UTIL gauge');
    expect(lines).toContain('# HELP DCGM_FI_PROF_GR_ENGINE_ACTIVE Ratio of time the graphics engine is active.');
    expect(lines).toContain('# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).');
    expect(lines).toContain('# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).');
    expect(lines.filter((l) => !l.startsWith('#'))).toHaveLength(8);
  });

  it('labels an assigned GPU with its pod, in the exporter label order', () => {
    expect(lines).toContain(
      `DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="${gpuUuid('p4d-1', 0)}",pci_bus_id="00000000:10:00.0",device="nvidia0",` +
        `modelName="NVIDIA A100-SXM4-40GB",Hostname="p4d-1",DCGM_FI_DRIVER_VERSION="535.129.03",` +
        `container="main",namespace="ml",pod="trainer-0"} 73`,
    );
    expect(lines.find((l) => l.startsWith('DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0"'))).toMatch(/\} 0\.730000$/);
    expect(lines.find((l) => l.startsWith('DCGM_FI_DEV_FB_USED{gpu="0"'))).toMatch(/\} 24576$/);
  });

  it('gives a free GPU no pod labels and zero utilization', () => {
    const util = lines.find((l) => l.startsWith('DCGM_FI_DEV_GPU_UTIL{gpu="1"'));
    expect(util).toMatch(/DCGM_FI_DRIVER_VERSION="535\.129\.03"\} 0$/);
    expect(util).not.toMatch(/pod=|namespace=|container=/);
  });

  it('renders the exported_* and hostname label styles', () => {
    const other = renderMetrics([busy], { labelStyle: 'exported', hostnameLabel: 'hostname' });
    expect(other).toContain(
      'hostname="p4d-1",DCGM_FI_DRIVER_VERSION="535.129.03",exported_container="main",exported_namespace="ml",exported_pod="trainer-0"}',
    );
    expect(other).not.toMatch(/[{,](pod|namespace|container|Hostname)=/);
  });

  it('derives stable, distinct UUIDs in NVIDIA form', () => {
    expect(gpuUuid('n', 0)).toBe(gpuUuid('n', 0));
    expect(gpuUuid('n', 0)).not.toBe(gpuUuid('n', 1));
    expect(gpuUuid('n', 0)).not.toBe(gpuUuid('m', 0));
    expect(gpuUuid('n', 3)).toMatch(/^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it.each([
    ['NVIDIA-A100-SXM4-40GB', 'NVIDIA A100-SXM4-40GB'],
    ['NVIDIA-A100-80GB-PCIe', 'NVIDIA A100 80GB PCIe'],
    ['NVIDIA-H100-80GB-HBM3', 'NVIDIA H100 80GB HBM3'],
    ['NVIDIA-A10G-SHARED', 'NVIDIA A10G'],
    ['NVIDIA-RTX-6000', 'NVIDIA RTX-6000'],
    ['Tesla-T4', 'Tesla T4'],
  ])('names GFD product %s as %s', (product, model) => {
    expect(modelNameOf(product)).toBe(model);
  });
});

describe('simulation of a scrape', () => {
  const gpuNode = (name: string, count: number, extra: Record<string, string> = {}): SimNode => ({
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        'nvidia.com/gpu.product': 'NVIDIA-L40S',
        'nvidia.com/gpu.count': String(count),
        'nvidia.com/gpu.memory': '46068',
        ...extra,
      },
    },
    status: { allocatable: { 'nvidia.com/gpu': String(count) } },
  });
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  const pod = (
    name: string,
    gpus: number[],
    options: {
      node?: string;
      phase?: string;
      annotations?: Record<string, string>;
      created?: number;
      started?: number;
    } = {},
  ): SimPod => ({
    metadata: {
      name,
      namespace: 'ml',
      uid: `uid-${name}`,
      annotations: options.annotations ?? {},
      creationTimestamp: new Date(options.created ?? T0).toISOString(),
    },
    spec: {
      nodeName: options.node ?? 'g6e',
      containers: gpus.map((g, i) => ({
        name: `c${i}`,
        resources: g > 0 ? { limits: { 'nvidia.com/gpu': String(g) } } : {},
      })),
    },
    status: {
      phase: options.phase ?? 'Running',
      ...(options.started === undefined ? {} : { startTime: new Date(options.started) }),
    },
  });
  const owners = (samples: GpuSample[]) =>
    samples.map((s) => `${s.node}/${s.index}:${s.owner ? `${s.owner.pod}/${s.owner.container}` : '-'}:${s.percent}`);

  it('covers every GPU of fake GPU nodes only', () => {
    const cpu: SimNode = { metadata: { name: 'cpu', annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: {} } };
    const real: SimNode = {
      ...gpuNode('real', 2),
      metadata: { name: 'real', labels: { 'nvidia.com/gpu.count': '2' } },
    };
    const samples = simulate([gpuNode('g6e', 4), cpu, real], [], newSimState(), T0);
    expect(owners(samples)).toEqual(['g6e/0:-:0', 'g6e/1:-:0', 'g6e/2:-:0', 'g6e/3:-:0']);
  });

  it('assigns GPUs per container to Running pods in creation order, and ignores other phases', () => {
    const pods = [
      pod('second', [1], { created: T0 + 1000 }),
      pod('first', [2, 0, 1], { created: T0 }),
      pod('pending', [1], { phase: 'Pending' }),
      pod('done', [1], { phase: 'Succeeded' }),
      pod('elsewhere', [1], { node: 'other' }),
    ];
    expect(owners(simulate([gpuNode('g6e', 4)], pods, newSimState(), T0))).toEqual([
      'g6e/0:first/c0:0',
      'g6e/1:first/c0:0',
      'g6e/2:first/c2:0',
      'g6e/3:second/c0:0',
    ]);
  });

  it('keeps a pod on its GPUs when an older pod ends', () => {
    const state = newSimState();
    const a = pod('a', [1], { created: T0 });
    const b = pod('b', [1], { created: T0 + 1 });
    simulate([gpuNode('g6e', 2)], [a, b], state, T0);
    const c = pod('c', [1], { created: T0 + 2 });
    expect(owners(simulate([gpuNode('g6e', 2)], [b, c], state, T0))).toEqual(['g6e/0:c/c0:0', 'g6e/1:b/c0:0']);
  });

  it('follows the utilization pattern from status.startTime, else from when the pod was first seen', () => {
    const node = [gpuNode('g6e', 2)];
    const annotations = { 'dcgm-sim.aicost.dev/utilization': '90 for 10m, then 5' };
    const started = pod('started', [1], { annotations, started: T0 - 11 * 60_000 });
    const unstarted = pod('unstarted', [1], { annotations, created: T0 + 1 });
    const state = newSimState();
    expect(owners(simulate(node, [started, unstarted], state, T0))).toEqual([
      'g6e/0:started/c0:5',
      'g6e/1:unstarted/c0:90',
    ]);
    expect(owners(simulate(node, [started, unstarted], state, T0 + 10 * 60_000))).toEqual([
      'g6e/0:started/c0:5',
      'g6e/1:unstarted/c0:5',
    ]);
  });

  it('reads an invalid annotation as 0 and reports it once', () => {
    const warnings: string[] = [];
    const bad = pod('bad', [1], { annotations: { 'dcgm-sim.aicost.dev/utilization': 'lots' } });
    const state = newSimState();
    const first = simulate([gpuNode('g6e', 1)], [bad], state, T0, (m) => warnings.push(m));
    simulate([gpuNode('g6e', 1)], [bad], state, T0 + 5000, (m) => warnings.push(m));
    expect(owners(first)).toEqual(['g6e/0:bad/c0:0']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ml\/bad.*lots/);
  });

  it('leaves out the GPUs of a pod annotated absent, and only those', () => {
    const hidden = pod('hidden', [2], { annotations: { 'dcgm-sim.aicost.dev/absent': 'true' } });
    const shown = pod('shown', [1], { created: T0 + 1 });
    expect(owners(simulate([gpuNode('g6e', 4)], [hidden, shown], newSimState(), T0))).toEqual([
      'g6e/2:shown/c0:0',
      'g6e/3:-:0',
    ]);
  });

  it('reports the GPU memory a pod is annotated with on each of its GPUs, else 60 % of the GPU', () => {
    const annotations = { 'dcgm-sim.aicost.dev/memory-used-mib': '6144' };
    const pods = [pod('small', [2], { annotations }), pod('plain', [1], { created: T0 + 1 })];
    const memory = simulate([gpuNode('g6e', 4)], pods, newSimState(), T0).map((s) => s.memoryUsedMiB);
    expect(memory).toEqual([6144, 6144, undefined, undefined]);
    const text = renderMetrics(simulate([gpuNode('g6e', 4)], pods, newSimState(), T0), {
      labelStyle: 'plain',
      hostnameLabel: 'Hostname',
    });
    const used = text.split('\n').filter((l) => l.startsWith('DCGM_FI_DEV_FB_USED'));
    // 60 % of the L40S's 46,068 MiB on the other pod's GPU, 0 on the free one.
    expect(used.map((l) => l.split(' ').at(-1))).toEqual(['6144', '6144', '27641', '0']);
  });

  it('reads an invalid memory annotation as the default, and reports it once', () => {
    const warnings: string[] = [];
    const bad = pod('bad', [1], { annotations: { 'dcgm-sim.aicost.dev/memory-used-mib': '6 GiB' } });
    const state = newSimState();
    simulate([gpuNode('g6e', 1)], [bad], state, T0, (m) => warnings.push(m));
    const [sample] = simulate([gpuNode('g6e', 1)], [bad], state, T0 + 5000, (m) => warnings.push(m));
    expect(sample?.memoryUsedMiB).toBeUndefined();
    expect(warnings).toEqual([
      'pod ml/bad: invalid dcgm-sim.aicost.dev/memory-used-mib (expected whole MiB); reporting the default',
    ]);
  });

  it('shares time-sliced GPUs between pods', () => {
    const sliced = gpuNode('g6e', 2, { 'nvidia.com/gpu.replicas': '4' });
    const pods = [pod('a', [1]), pod('b', [1], { created: T0 + 1 }), pod('c', [1], { created: T0 + 2 })];
    expect(owners(simulate([sliced], pods, newSimState(), T0))).toEqual(['g6e/0:a/c0:0', 'g6e/1:b/c0:0']);
  });
});

describe("vLLM's series for serving pods", () => {
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  const serving = (
    name: string,
    annotations: Record<string, string>,
    over: Partial<SimPod['status']> = {},
  ): SimPod => ({
    metadata: { name, namespace: 'ml', uid: `uid-${name}`, annotations },
    spec: { nodeName: 'p4d', containers: [{ name: 'vllm' }] },
    status: { phase: 'Running', startTime: new Date(T0).toISOString(), ...over },
  });
  const llm = {
    'dcgm-sim.aicost.dev/tokens-per-second': 'prompt=400,generation=600',
    'dcgm-sim.aicost.dev/requests-per-second': '2',
    'dcgm-sim.aicost.dev/model': 'llama-3-8b',
    'dcgm-sim.aicost.dev/serving-share': '0.5',
    'dcgm-sim.aicost.dev/prefill-share': '0.25',
  };

  it.each([
    ['prompt=400,generation=600', { prompt: 400, generation: 600 }],
    ['generation=0.5, prompt=12', { prompt: 12, generation: 0.5 }],
  ])('reads %j', (text, rates) => {
    expect(parseTokenRates(text)).toEqual(rates);
  });

  it.each([
    'prompt=400',
    'prompt=400,generation=600,prompt=1',
    'input=1,output=2',
    'prompt=-1,generation=1',
    'prompt=1=2,generation=1',
    '',
  ])('refuses %j', (text) => {
    expect(() => parseTokenRates(text)).toThrow();
  });

  it("grows each counter at its rate from the pod's start, whole, and splits the serving time", () => {
    const pods = [serving('llm-0', llm), serving('other', {}), serving('pending', llm, { phase: 'Pending' })];
    // 90.5 s after the start.
    expect(simulateInference(pods, newSimState(), T0 + 90_500)).toEqual([
      {
        namespace: 'ml',
        pod: 'llm-0',
        model: 'llama-3-8b',
        promptTokens: 36_200,
        generationTokens: 54_300,
        requests: 181,
        prefillSeconds: 0.5 * 0.25 * 90.5,
        decodeSeconds: 0.5 * 0.75 * 90.5,
      },
    ]);
  });

  it('serves only what the pod is annotated with, from when it was first seen without a start time', () => {
    const state = newSimState();
    state.firstSeen.set('uid-rq', T0);
    const requestsOnly = serving('rq', { 'dcgm-sim.aicost.dev/requests-per-second': '3' }, { startTime: undefined });
    expect(simulateInference([requestsOnly], state, T0 + 10_000)).toEqual([
      {
        namespace: 'ml',
        pod: 'rq',
        model: 'model',
        promptTokens: undefined,
        generationTokens: undefined,
        requests: 30,
        prefillSeconds: undefined,
        decodeSeconds: undefined,
      },
    ]);
    // prefill-share alone: the serving time is the whole time (serving-share 1).
    const timed = serving('t', {
      'dcgm-sim.aicost.dev/requests-per-second': '1',
      'dcgm-sim.aicost.dev/prefill-share': '0.2',
    });
    expect(simulateInference([timed], state, T0 + 10_000)[0]).toMatchObject({ prefillSeconds: 2, decodeSeconds: 8 });
  });

  it('serves no series at all for a pod with an invalid annotation, and reports it once', () => {
    const warnings: string[] = [];
    const state = newSimState();
    const bad = serving('bad', { ...llm, 'dcgm-sim.aicost.dev/prefill-share': '1.5' });
    expect(simulateInference([bad], state, T0 + 1000, (m) => warnings.push(m))).toEqual([]);
    expect(simulateInference([bad], state, T0 + 6000, (m) => warnings.push(m))).toEqual([]);
    expect(warnings).toEqual([
      'pod ml/bad: invalid dcgm-sim.aicost.dev/prefill-share (1.5 is above 1); serving no series',
    ]);
  });

  it("renders vLLM's text in both label styles, histograms with their +Inf bucket, sum and count", () => {
    const samples = simulateInference([serving('llm-0', llm)], newSimState(), T0 + 60_000);
    const plain = renderInferenceMetrics(samples, { labelStyle: 'plain', hostnameLabel: 'Hostname' });
    const labels = 'namespace="ml",pod="llm-0",model_name="llama-3-8b"';
    expect(plain.trimEnd().split('\n')).toEqual([
      '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
      '# TYPE vllm:prompt_tokens_total counter',
      `vllm:prompt_tokens_total{${labels}} 24000`,
      '# HELP vllm:generation_tokens_total Number of generation tokens processed.',
      '# TYPE vllm:generation_tokens_total counter',
      `vllm:generation_tokens_total{${labels}} 36000`,
      '# HELP vllm:request_success_total Count of successfully processed requests.',
      '# TYPE vllm:request_success_total counter',
      `vllm:request_success_total{${labels},finished_reason="stop"} 120`,
      '# HELP vllm:request_prefill_time_seconds Histogram of time spent in PREFILL phase for request.',
      '# TYPE vllm:request_prefill_time_seconds histogram',
      `vllm:request_prefill_time_seconds_bucket{${labels},le="+Inf"} 120`,
      `vllm:request_prefill_time_seconds_sum{${labels}} 7.500000`,
      `vllm:request_prefill_time_seconds_count{${labels}} 120`,
      '# HELP vllm:request_decode_time_seconds Histogram of time spent in DECODE phase for request.',
      '# TYPE vllm:request_decode_time_seconds histogram',
      `vllm:request_decode_time_seconds_bucket{${labels},le="+Inf"} 120`,
      `vllm:request_decode_time_seconds_sum{${labels}} 22.500000`,
      `vllm:request_decode_time_seconds_count{${labels}} 120`,
    ]);
    const exported = renderInferenceMetrics(samples, { labelStyle: 'exported', hostnameLabel: 'Hostname' });
    expect(exported).toContain(
      'vllm:prompt_tokens_total{exported_namespace="ml",exported_pod="llm-0",model_name="llama-3-8b"} 24000',
    );
    expect(renderInferenceMetrics([], { labelStyle: 'plain', hostnameLabel: 'Hostname' })).toBe('');
  });
});
