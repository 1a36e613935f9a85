/**
 * The DCGM exporter simulator's pure parts: utilization patterns, device-plugin-like GPU assignment, and
 * the dcgm-exporter text format. The server around them is dcgm-sim.ts.
 */

/** A pattern: "90", or steps "80 for 5m, 20 for 5m, then 0" measured from the pod's start. */
export interface Step {
  readonly percent: number;
  readonly seconds: number | undefined;
}

const UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

export function parsePattern(text: string): Step[] {
  const parts = text.split(',').map((p) => p.trim());
  const steps: Step[] = [];
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const step = /^(?:then\s+)?(\d+(?:\.\d+)?)(?:\s+for\s+(\d+)([smh]))?$/.exec(part);
    if (!step)
      throw new Error(`cannot read "${part}": expected "<percent>", "<percent> for <n>s|m|h" or "then <percent>"`);
    const percent = Number(step[1]);
    if (percent > 100) throw new Error(`${percent} is above 100 percent`);
    const seconds = step[2] === undefined ? undefined : Number(step[2]) * (UNIT[step[3] ?? 's'] ?? 1);
    if (seconds === undefined && !last) throw new Error(`only the last step may go on forever: "${part}"`);
    steps.push({ percent, seconds });
  });
  return steps;
}

/** Utilization in percent `elapsedSeconds` after the pod started. */
export function utilizationAt(steps: readonly Step[], elapsedSeconds: number): number {
  let t = Math.max(0, elapsedSeconds);
  for (const step of steps) {
    if (step.seconds === undefined || t < step.seconds) return step.percent;
    t -= step.seconds;
  }
  return 0; // the pattern ran out: the GPU went quiet
}

export interface GpuClaim {
  readonly uid: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly count: number;
}

/**
 * Assigns GPU indexes to pods as the device plugin would: each pod keeps the indexes it got, new pods take
 * the lowest free ones. Returns the new assignment (by pod uid); pods that do not fit get none.
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
  readonly owner?: { readonly namespace: string; readonly pod: string; readonly container: string } | undefined;
}

export interface RenderOptions {
  /** "exported": pod labels renamed as Prometheus does with honor_labels: false. */
  readonly labelStyle: 'plain' | 'exported';
  /** dcgm-exporter renamed Hostname to hostname in some releases. */
  readonly hostnameLabel: 'Hostname' | 'hostname';
}

const METRICS = [
  {
    name: 'DCGM_FI_DEV_GPU_UTIL',
    help: 'GPU utilization (in %).',
    value: (s: GpuSample) => String(Math.round(s.percent)),
  },
  {
    name: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
    help: 'Ratio of time the graphics engine is active.',
    value: (s: GpuSample) => (s.percent / 100).toFixed(6),
  },
  {
    name: 'DCGM_FI_DEV_FB_USED',
    help: 'Framebuffer memory used (in MiB).',
    value: (s: GpuSample) => String(s.owner ? Math.round(s.memoryMiB * 0.6) : 0),
  },
  {
    name: 'DCGM_FI_DEV_POWER_USAGE',
    help: 'Power draw (in W).',
    value: (s: GpuSample) => (60 + 3 * s.percent).toFixed(3),
  },
] as const;

export function gpuUuid(node: string, index: number): string {
  let h = 2166136261;
  for (const ch of `${node}/${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const hex = (h.toString(16).padStart(8, '0') + ((h ^ 0x5bd1e995) >>> 0).toString(16).padStart(8, '0')).slice(0, 16);
  return `GPU-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-0000-${String(index).padStart(12, '0')}`;
}

export function renderMetrics(samples: readonly GpuSample[], options: RenderOptions): string {
  const lines: string[] = [];
  const prefix = options.labelStyle === 'exported' ? 'exported_' : '';
  for (const metric of METRICS) {
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const s of samples) {
      const labels = [
        `gpu="${s.index}"`,
        `UUID="${gpuUuid(s.node, s.index)}"`,
        `pci_bus_id="00000000:${(0x10 + s.index).toString(16).toUpperCase()}:00.0"`,
        `device="nvidia${s.index}"`,
        `modelName="${s.modelName}"`,
        `${options.hostnameLabel}="${s.node}"`,
        `DCGM_FI_DRIVER_VERSION="535.129.03"`,
      ];
      if (s.owner)
        labels.push(
          `${prefix}container="${s.owner.container}"`,
          `${prefix}namespace="${s.owner.namespace}"`,
          `${prefix}pod="${s.owner.pod}"`,
        );
      lines.push(`${metric.name}{${labels.join(',')}} ${metric.value(s)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** GFD product label to the model name dcgm-exporter reports: "NVIDIA-A100-SXM4-40GB" -> "NVIDIA A100-SXM4-40GB". */
export function modelNameOf(product: string): string {
  return product
    .replace(/-SHARED$/, '')
    .replace(/^NVIDIA-/, 'NVIDIA ')
    .replace(/^Tesla-/, 'Tesla ');
}
