/**
 * The right-sizing rules' input, from the two sources `aicost recommend` reads: the ledger (which workloads ran,
 * on which instance type, at what cost) and Prometheus (what their pods' GPUs did). Pure: the queries are text
 * and their answers plain series, so both are tested without a server.
 *
 * Pods are joined to the ledger's workloads by namespace and name, the way the controllers name them: a
 * Deployment's pods `<name>-<replicaset hash>-<suffix>`, a StatefulSet's `<name>-<ordinal>`, a Job's
 * `<name>-<suffix>` (or `<name>-<index>-<suffix>`), a bare Pod its own name; the longest matching name wins.
 * The CLI reads no Kubernetes API, so this is what ties the two sources together.
 */
import { divRoundHalfUp, type Nanos } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { podKeyOf, sampleValue, type MatrixSeries } from '../measure/gpu-utilization.ts';
import { HOUR_MS } from './types.ts';
import { workloadClassOf, type PodObservation, type WorkloadObservation } from './workload-observation.ts';

const BY = 'by (pod, namespace, exported_pod, exported_namespace)';

export const POD_SIGNALS = ['gpus', 'busiest', 'unused', 'samples', 'memory', 'memoryGpus'] as const;
export type PodSignal = (typeof POD_SIGNALS)[number];

/**
 * One instant query per signal, each summed up per pod. Utilization is GR_ENGINE_ACTIVE where a GPU has it, else
 * GPU_UTIL / 100 (MIG instances have only the former, older GPUs only the latter); `or` keeps one per GPU.
 */
export function podQueries(windowSeconds: number, idleUtilization: number, selector = ''): Record<PodSignal, string> {
  // The operator's --dcgm-selector: only the trusted exporters' series count (a tenant could forge others).
  const w = `${selector === '' ? '' : `{${selector}}`}[${windowSeconds}s]`;
  const mean = `(avg_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE${w}) or avg_over_time(DCGM_FI_DEV_GPU_UTIL${w}) / 100)`;
  const count = `(count_over_time(DCGM_FI_PROF_GR_ENGINE_ACTIVE${w}) or count_over_time(DCGM_FI_DEV_GPU_UTIL${w}))`;
  const memory = `max_over_time(DCGM_FI_DEV_FB_USED${w})`;
  return {
    gpus: `count ${BY} (${mean})`,
    busiest: `max ${BY} (${mean})`,
    unused: `count ${BY} (${mean} < ${idleUtilization})`,
    samples: `min ${BY} (${count})`,
    memory: `max ${BY} (${memory})`,
    memoryGpus: `count ${BY} (${memory})`,
  };
}

/**
 * Each pod's observation from the signals' answers (a signal the server did not answer is missing, and so is
 * every pod's figure from it). Coverage is the least covered GPU's samples times the scrape interval over the
 * window; a pod whose figures are malformed is left out, so its workload gets nothing (partial metrics).
 */
export function podObservations(
  answers: Readonly<Record<PodSignal, readonly MatrixSeries[]>>,
  windowSeconds: number,
  scrapeIntervalSeconds: number,
): Map<string, PodObservation> {
  const read = (signal: PodSignal): Map<string, number> => {
    const values = new Map<string, number>();
    for (const s of answers[signal]) {
      const key = podKeyOf(s.metric);
      const value = sampleValue(s.values[0], 1);
      if (key !== undefined) values.set(key, value);
    }
    return values;
  };
  const [gpus, busiest, unused, samples, memory, memoryGpus] = POD_SIGNALS.map((s) => read(s));
  const pods = new Map<string, PodObservation>();
  for (const [key, count] of gpus ?? []) {
    const top = busiest?.get(key);
    const sampled = samples?.get(key);
    if (!(count >= 1) || top === undefined || !(top >= 0 && top <= 1) || sampled === undefined || !(sampled >= 0))
      continue;
    const used = memory?.get(key);
    const withMemory = memoryGpus?.get(key) ?? 0;
    pods.set(key, {
      pod: key,
      gpus: count,
      busiestUtilization: top,
      unusedGpus: unused?.get(key) ?? 0,
      coverage: Math.min(1, (sampled * scrapeIntervalSeconds) / windowSeconds),
      maxMemoryUsedMiB: withMemory >= count && used !== undefined && used >= 0 ? used : undefined,
    });
  }
  return pods;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The pattern of the names a workload's pods take. */
function podNamePattern(kind: string, name: string): RegExp {
  const n = escape(name);
  switch (kind) {
    case 'Deployment':
      return new RegExp(`^${n}-[0-9a-z]{1,10}-[0-9a-z]{5}$`);
    case 'StatefulSet':
      return new RegExp(`^${n}-\\d+$`);
    case 'Job':
      return new RegExp(`^${n}(-\\d+)?-[0-9a-z]{5}$`);
    default:
      return new RegExp(`^${n}$`);
  }
}

const targetOf = (r: LedgerRow): string => `${r.namespace}/${r.workloadKind}/${r.workloadName}`;

interface WorkloadSums {
  readonly latest: LedgerRow;
  cost: Nanos;
  coveredMs: number;
}

/**
 * The observation of every GPU workload in `rows` (the finished windows of the look-back) to which some pod
 * matches. `observedSeconds` is what the ledger covers, at most the window; the pods' own coverage says how
 * much of it the metrics cover. `ownerOf`, when given, names a pod's workload (`namespace/Kind/name`, as the
 * operator resolves it from its cache) instead of the name patterns; a pod it does not know is left out.
 */
export function observeWorkloads(
  rows: readonly LedgerRow[],
  pods: ReadonlyMap<string, PodObservation>,
  windowSeconds: number,
  ownerOf?: (podKey: string) => string | undefined,
): WorkloadObservation[] {
  const sums = new Map<string, WorkloadSums>();
  for (const row of rows) {
    if (row.workloadKind === 'Node') continue;
    const key = [row.clusterId, row.namespace, row.workloadKind, row.workloadName].join('/');
    const s = sums.get(key);
    const span = row.windowEndMs - row.windowStartMs;
    if (s === undefined) sums.set(key, { latest: row, cost: row.cost, coveredMs: span });
    else {
      s.cost += row.cost;
      s.coveredMs += span;
      if (row.windowStartMs > s.latest.windowStartMs) sums.set(key, { ...s, latest: row });
    }
  }
  const gpuWorkloads = [...sums.values()].filter((s) => s.latest.gpuModel !== '' && s.latest.gpuHours > 0n);
  // Each pod goes to the longest workload name it matches in its namespace (a Deployment "chat" and "chat-api").
  const podsOf = new Map<WorkloadSums, PodObservation[]>();
  const byTarget = new Map(gpuWorkloads.map((s) => [targetOf(s.latest), s]));
  for (const [key, pod] of pods) {
    const [namespace, name] = key.split('/') as [string, string];
    let owner: WorkloadSums | undefined;
    if (ownerOf !== undefined) {
      const target = ownerOf(key);
      owner = target === undefined ? undefined : byTarget.get(target);
    } else
      for (const s of gpuWorkloads) {
        const { namespace: ns, workloadKind: kind, workloadName: workload } = s.latest;
        if (ns !== namespace || !podNamePattern(kind, workload).test(name)) continue;
        if (owner === undefined || workload.length > owner.latest.workloadName.length) owner = s;
      }
    if (owner === undefined) continue;
    const list = podsOf.get(owner);
    if (list === undefined) podsOf.set(owner, [pod]);
    else list.push(pod);
  }
  return [...podsOf].map(([s, matched]) => {
    const r = s.latest;
    return {
      clusterId: r.clusterId,
      target: targetOf(r),
      workloadClass: workloadClassOf(r.workloadKind, r.labels),
      instanceType: r.instanceType,
      region: r.region,
      gpuModel: r.gpuModel,
      currency: r.currency,
      costPerHour: divRoundHalfUp(s.cost * BigInt(HOUR_MS), BigInt(s.coveredMs)),
      observedSeconds: Math.min(windowSeconds, Math.floor(s.coveredMs / 1000)),
      pods: matched.sort((a, b) => a.pod.localeCompare(b.pod)),
    };
  });
}
