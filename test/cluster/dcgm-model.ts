/**
 * The DCGM exporter simulator's pure parts: utilization patterns, device-plugin-like GPU assignment, the
 * per-scrape simulation of every GPU of the fake nodes, and dcgm-exporter's text format; and the vLLM series of
 * the pods that serve (inference-model.ts). The server around them (informers, HTTP) is dcgm-sim.ts.
 */
import { createHash } from 'node:crypto';

export const ANNOTATION_UTILIZATION = 'dcgm-sim.aicost.dev/utilization';
export const ANNOTATION_ABSENT = 'dcgm-sim.aicost.dev/absent';
export const ANNOTATION_MEMORY_USED = 'dcgm-sim.aicost.dev/memory-used-mib';
export const DRIVER_VERSION = '535.129.03';

/** One step of a pattern; `seconds` undefined means "from here on". */
export interface Step {
  readonly percent: number;
  readonly seconds: number | undefined;
}

const UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/**
 * Reads a utilization pattern: "73", or steps measured from the pod's start such as "90 for 10m, then 0"
 * or "80 for 5m, 20 for 5m, then 0". Percentages may carry a "%"; durations take s, m or h. Throws on
 * anything else, naming the part it could not read.
 */
export function parsePattern(text: string): Step[] {
  const parts = text.split(',').map((p) => p.trim());
  const steps: Step[] = [];
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const step = /^(then\s+)?(\d+(?:\.\d+)?)\s*%?(?:\s+for\s+(\d+(?:\.\d+)?)\s*([smh]))?$/.exec(part);
    if (!step)
      throw new Error(`cannot read "${part}": expected "<percent>", "<percent> for <n>s|m|h" or "then <percent>"`);
    const [, then, percentText, amount, unit] = step;
    const percent = Number(percentText);
    if (percent > 100) throw new Error(`${percent} is above 100 percent`);
    if (then !== undefined && i === 0) throw new Error(`"${part}": "then" needs a step before it`);
    const seconds = amount === undefined ? undefined : Number(amount) * (UNIT[unit ?? 's'] ?? 1);
    if (seconds === undefined && !last) throw new Error(`only the last step may go on forever: "${part}"`);
    steps.push({ percent, seconds });
  });
  return steps;
}

/** Utilization in percent `elapsedSeconds` after the pod started; 0 once a pattern without "then" runs out. */
export function utilizationAt(steps: readonly Step[], elapsedSeconds: number): number {
  let t = Math.max(0, elapsedSeconds);
  for (const step of steps) {
    if (step.seconds === undefined || t < step.seconds) return step.percent;
    t -= step.seconds;
  }
  return 0;
}

/** The GPUs one container asked for; `uid` is unique per pod and container. */
export interface GpuClaim {
  readonly uid: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly count: number;
}

/**
 * Assigns GPU indexes as the device plugin would: a claim keeps the indexes it had, new claims (in the
 * given order) take the lowest free ones. Returns the assignment by claim uid; claims that do not fit get
 * none.
 */
export function assignGpus(
  gpuCount: number,
  claims: readonly GpuClaim[],
  previous: ReadonlyMap<string, readonly number[]>,
): Map<string, number[]> {
  const next = new Map<string, number[]>();
  const used = new Set<number>();
  for (const c of claims) {
    const kept = previous.get(c.uid);
    if (kept && kept.length === c.count && kept.every((i) => i < gpuCount && !used.has(i))) {
      next.set(c.uid, [...kept]);
      for (const i of kept) used.add(i);
    }
  }
  for (const c of claims) {
    if (next.has(c.uid)) continue;
    const free: number[] = [];
    for (let i = 0; i < gpuCount && free.length < c.count; i++) if (!used.has(i)) free.push(i);
    if (free.length < c.count) continue;
    next.set(c.uid, free);
    for (const i of free) used.add(i);
  }
  return next;
}

export interface GpuSample {
  readonly node: string;
  readonly index: number;
  readonly modelName: string;
  readonly percent: number;
  readonly memoryMiB: number;
  /** MiB in use, from the pod's annotation; default: 60 % of memoryMiB on an assigned GPU, 0 on a free one. */
  readonly memoryUsedMiB?: number | undefined;
  readonly owner?: { readonly namespace: string; readonly pod: string; readonly container: string } | undefined;
}

export interface RenderOptions {
  /** "exported": the pod labels renamed exported_* as Prometheus does when honor_labels is false. */
  readonly labelStyle: 'plain' | 'exported';
  /** The host label's spelling: dcgm-exporter writes Hostname; some pipelines relabel it hostname. */
  readonly hostnameLabel: 'Hostname' | 'hostname';
}

// Help texts as dcgm-exporter's etc/dcp-metrics-included.csv has them. Values are formatted the way the
// exporter formats them: integers for integer fields, %f (six decimals) for floating-point fields.
const METRICS = [
  {
    name: 'DCGM_FI_DEV_GPU_UTIL',
    help: 'GPU utilization (in %).',
    value: (s: GpuSample) => String(Math.round(s.percent)),
  },
  {
    name: 'DCGM_FI_DEV_FB_USED',
    help: 'Framebuffer memory used (in MiB).',
    // An allocated GPU holds its model's weights whether busy or not; a free one holds nothing.
    value: (s: GpuSample) => String(s.memoryUsedMiB ?? (s.owner ? Math.round(s.memoryMiB * 0.6) : 0)),
  },
  {
    name: 'DCGM_FI_DEV_POWER_USAGE',
    help: 'Power draw (in W).',
    value: (s: GpuSample) => (60 + 3 * s.percent).toFixed(6),
  },
  {
    name: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    help: 'Ratio of time the graphics engine is active.',
    value: (s: GpuSample) => (s.percent / 100).toFixed(6),
  },
] as const;

export const METRIC_NAMES: readonly string[] = METRICS.map((m) => m.name);

// Hashing is most of a scrape's cost with thousands of GPUs; a GPU's UUID never changes.
const uuids = new Map<string, string>();

/** A stable GPU UUID in NVIDIA's GPU-8-4-4-4-12 form, derived from the node name and GPU index. */
export function gpuUuid(node: string, index: number): string {
  const key = `${node}/${index}`;
  let uuid = uuids.get(key);
  if (uuid === undefined) {
    const h = createHash('sha256').update(key).digest('hex');
    uuid = `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
    uuids.set(key, uuid);
  }
  return uuid;
}

/** The PCI bus id of GPU `index`, as nvidia-smi prints it. */
export function pciBusId(index: number): string {
  return `00000000:${(0x10 + index).toString(16).toUpperCase().padStart(2, '0')}:00.0`;
}

/** A label value as the text format writes it. */
export const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The text dcgm-exporter serves: # HELP and # TYPE per metric, then one line per GPU. */
export function renderMetrics(samples: readonly GpuSample[], options: RenderOptions): string {
  const lines: string[] = [];
  const prefix = options.labelStyle === 'exported' ? 'exported_' : '';
  for (const metric of METRICS) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const s of samples) {
      // The exporter's label order: fixed GPU labels, then its label map and pod attributes, each sorted.
      const labels = [
        `gpu="${s.index}"`,
        `UUID="${gpuUuid(s.node, s.index)}"`,
        `pci_bus_id="${pciBusId(s.index)}"`,
        `device="nvidia${s.index}"`,
        `modelName="${escapeLabel(s.modelName)}"`,
        `${options.hostnameLabel}="${escapeLabel(s.node)}"`,
        `DCGM_FI_DRIVER_VERSION="${DRIVER_VERSION}"`,
      ];
      if (s.owner)
        labels.push(
          `${prefix}container="${escapeLabel(s.owner.container)}"`,
          `${prefix}namespace="${escapeLabel(s.owner.namespace)}"`,
          `${prefix}pod="${escapeLabel(s.owner.pod)}"`,
        );
      lines.push(`${metric.name}{${labels.join(',')}} ${metric.value(s)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

// GFD writes NVML's device name with spaces turned into dashes, which cannot be undone in general
// ("NVIDIA A100-SXM4-40GB" and "NVIDIA A100 80GB PCIe" both lose their spaces): known models are listed.
const MODEL_NAMES: Readonly<Record<string, string>> = {
  'NVIDIA-A100-SXM4-40GB': 'NVIDIA A100-SXM4-40GB',
  'NVIDIA-A100-SXM4-80GB': 'NVIDIA A100-SXM4-80GB',
  'NVIDIA-A100-PCIE-40GB': 'NVIDIA A100-PCIE-40GB',
  'NVIDIA-A100-80GB-PCIe': 'NVIDIA A100 80GB PCIe',
  'NVIDIA-A100-PCIE-80GB': 'NVIDIA A100 80GB PCIe',
  'NVIDIA-H100-80GB-HBM3': 'NVIDIA H100 80GB HBM3',
  'NVIDIA-H100-PCIe': 'NVIDIA H100 PCIe',
  'NVIDIA-H200': 'NVIDIA H200',
  'NVIDIA-L40S': 'NVIDIA L40S',
  'NVIDIA-L4': 'NVIDIA L4',
  'NVIDIA-A10G': 'NVIDIA A10G',
  'Tesla-T4': 'Tesla T4',
  'Tesla-V100-SXM2-16GB': 'Tesla V100-SXM2-16GB',
};

/** GFD product label to the model name dcgm-exporter reports: "NVIDIA-A100-SXM4-40GB" -> "NVIDIA A100-SXM4-40GB". */
export function modelNameOf(product: string): string {
  const base = product.replace(/-SHARED$/, '');
  return MODEL_NAMES[base] ?? base.replace(/^(NVIDIA|Tesla)-/, '$1 ');
}

// ---- The simulation of one scrape ----

/** The parts of a Node the simulator reads (timestamps may be strings or Dates: lists and watches differ). */
export interface SimNode {
  readonly metadata?: {
    readonly name?: string | undefined;
    readonly labels?: Readonly<Record<string, string>> | undefined;
    readonly annotations?: Readonly<Record<string, string>> | undefined;
  };
  readonly status?: { readonly allocatable?: Readonly<Record<string, string>> | undefined } | undefined;
}

interface SimContainer {
  readonly name: string;
  readonly resources?:
    | {
        readonly limits?: Readonly<Record<string, string>> | undefined;
        readonly requests?: Readonly<Record<string, string>> | undefined;
      }
    | undefined;
}

export interface SimPod {
  readonly metadata?: {
    readonly name?: string | undefined;
    readonly namespace?: string | undefined;
    readonly uid?: string | undefined;
    readonly annotations?: Readonly<Record<string, string>> | undefined;
    readonly creationTimestamp?: string | Date | undefined;
  };
  readonly spec?: { readonly nodeName?: string | undefined; readonly containers: readonly SimContainer[] } | undefined;
  readonly status?: { readonly phase?: string | undefined; readonly startTime?: string | Date | undefined } | undefined;
}

/** What the simulator remembers between scrapes. */
export interface SimState {
  /** node -> claim uid -> GPU indexes */
  assignments: Map<string, Map<string, number[]>>;
  /** pod uid -> when it was first seen running (ms), for pods without status.startTime */
  firstSeen: Map<string, number>;
  /** pod uid + annotation already reported as invalid */
  warned: Set<string>;
}

export const newSimState = (): SimState => ({ assignments: new Map(), firstSeen: new Map(), warned: new Set() });

const millis = (t: string | Date | undefined): number | undefined => {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * Reports an invalid annotation of a pod once (per pod, annotation and value) through `warn`: the simulator
 * reads every annotation at every scrape, every 5 s.
 */
export function once(state: SimState, uid: string, who: string, warn: (message: string) => void) {
  return (annotation: string, text: string, error: unknown, fallback: string): void => {
    const key = `${uid}\n${annotation}\n${text}`;
    if (state.warned.has(key)) return;
    state.warned.add(key);
    const reason = error instanceof Error ? error.message : String(error);
    warn(`${who}: invalid ${annotation} (${reason}); ${fallback}`);
  };
}

/** The epoch milliseconds a pod started: its status.startTime, else when the simulator first saw it running. */
export function startedMs(pod: SimPod, state: SimState, now: number): number {
  return millis(pod.status?.startTime) ?? state.firstSeen.get(pod.metadata?.uid ?? '') ?? now;
}

/** GPUs a container asks for: its limit (extended resources must have one), else its request. */
export function containerGpus(c: SimContainer): number {
  const n = Number(c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu'] ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * The GPUs of every fake GPU node at `now`, with their owners and utilization. Pods count while they are
 * Running on the node; invalid utilization annotations are reported once through `warn` and read as 0.
 */
export function simulate(
  nodes: readonly SimNode[],
  pods: readonly SimPod[],
  state: SimState,
  now: number,
  warn: (message: string) => void = () => undefined,
): GpuSample[] {
  const running = pods.filter((p) => p.status?.phase === 'Running' && p.spec?.nodeName && p.metadata?.uid);
  const liveUids = new Set(running.map((p) => p.metadata?.uid ?? ''));
  for (const uid of state.firstSeen.keys()) if (!liveUids.has(uid)) state.firstSeen.delete(uid);
  for (const uid of liveUids) if (!state.firstSeen.has(uid)) state.firstSeen.set(uid, now);

  const byNode = new Map<string, SimPod[]>();
  for (const p of running) {
    const node = p.spec?.nodeName ?? '';
    const list = byNode.get(node);
    if (list) list.push(p);
    else byNode.set(node, [p]);
  }

  const samples: GpuSample[] = [];
  const assignments = new Map<string, Map<string, number[]>>();
  const sortedNodes = [...nodes].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const node of sortedNodes) {
    const meta = node.metadata ?? {};
    const name = meta.name;
    const labels = meta.labels ?? {};
    if (!name || meta.annotations?.['kwok.x-k8s.io/node'] !== 'fake') continue;
    const replicas = Math.max(1, Number(labels['nvidia.com/gpu.replicas'] ?? '1') || 1);
    const advertised = Number(node.status?.allocatable?.['nvidia.com/gpu'] ?? '0');
    const gpus = Number(labels['nvidia.com/gpu.count'] ?? Math.floor(advertised / replicas));
    if (!(Number.isInteger(gpus) && gpus > 0)) continue;

    // The device plugin serves pods in the order the kubelet admits them: creation order.
    const onNode = (byNode.get(name) ?? []).sort(
      (a, b) =>
        (millis(a.metadata?.creationTimestamp) ?? 0) - (millis(b.metadata?.creationTimestamp) ?? 0) ||
        (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
    );
    const claims: GpuClaim[] = [];
    const podOf = new Map<string, SimPod>();
    for (const pod of onNode) {
      for (const c of pod.spec?.containers ?? []) {
        const count = containerGpus(c);
        if (count === 0) continue;
        const uid = `${pod.metadata?.uid ?? ''}/${c.name}`;
        // A time-sliced unit is a share of a GPU: a container sees ceil(units / replicas) devices.
        claims.push({
          uid,
          namespace: pod.metadata?.namespace ?? '',
          pod: pod.metadata?.name ?? '',
          container: c.name,
          count: Math.ceil(count / replicas),
        });
        podOf.set(uid, pod);
      }
    }
    const assigned =
      replicas > 1
        ? new Map(claims.map((c, i) => [c.uid, [i % gpus]]))
        : assignGpus(gpus, claims, state.assignments.get(name) ?? new Map<string, number[]>());
    assignments.set(name, assigned);

    const owners = new Map<number, GpuClaim>();
    for (const claim of claims) for (const i of assigned.get(claim.uid) ?? []) if (!owners.has(i)) owners.set(i, claim);

    const modelName = modelNameOf(labels['nvidia.com/gpu.product'] ?? 'NVIDIA-GPU');
    const memoryMiB = Number(labels['nvidia.com/gpu.memory'] ?? '16384') || 16384;
    for (let index = 0; index < gpus; index++) {
      const owner = owners.get(index);
      const pod = owner ? podOf.get(owner.uid) : undefined;
      const annotations = pod?.metadata?.annotations ?? {};
      if (annotations[ANNOTATION_ABSENT] === 'true') continue;
      let percent = 0;
      let memoryUsedMiB: number | undefined;
      if (pod) {
        const uid = pod.metadata?.uid ?? '';
        const text = annotations[ANNOTATION_UTILIZATION] ?? '0';
        const report = once(state, uid, `pod ${owner?.namespace ?? ''}/${owner?.pod ?? ''}`, warn);
        try {
          percent = utilizationAt(parsePattern(text), (now - startedMs(pod, state, now)) / 1000);
        } catch (error) {
          report(ANNOTATION_UTILIZATION, text, error, 'reporting 0');
        }
        const used = annotations[ANNOTATION_MEMORY_USED];
        if (used !== undefined) {
          memoryUsedMiB = /^\d+$/.test(used) ? Math.min(Number(used), memoryMiB) : undefined;
          if (memoryUsedMiB === undefined)
            report(ANNOTATION_MEMORY_USED, used, new Error('expected whole MiB'), 'reporting the default');
        }
      }
      samples.push({
        node: name,
        index,
        modelName,
        percent,
        memoryMiB,
        memoryUsedMiB,
        owner: owner ? { namespace: owner.namespace, pod: owner.pod, container: owner.container } : undefined,
      });
    }
  }
  state.assignments = assignments;
  for (const key of state.warned) if (!liveUids.has(key.split('\n')[0] ?? '')) state.warned.delete(key);
  return samples;
}
