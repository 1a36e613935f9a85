/**
 * What /readyz answers, from what the composition root knows: a pure function, so its wording is tested. The
 * probe port is plain HTTP and unauthenticated (the kubelet calls it), so the body says states, never text from
 * elsewhere: not a Prometheus error (which can quote its URL), not a cost.
 */
export interface ReadinessFacts {
  /** Caches not synced, by resource name, each with its reason when it has one (unsyncedCaches). */
  readonly unsynced: readonly string[];
  /** Why leader election cannot run at all (e.g. its namespace is missing); undefined while it can, or when off. */
  readonly electionProblem: string | undefined;
  /** 'webhook': the webhook-only role (`aicost webhook`), which neither elects nor accounts. */
  readonly role: 'leader' | 'standby' | 'webhook';
  /** The last accounting cycle's word on the GPU metrics (gpuMetricsState); undefined where nothing is accounted. */
  readonly gpuMetrics: string | undefined;
}

/** Not ready while any reason holds, and the body names every one; once ready, the body says the role. */
export function readiness(facts: ReadinessFacts): { ready: boolean; detail: string } {
  const reasons: string[] = [];
  if (facts.electionProblem !== undefined) reasons.push(`leader election: ${facts.electionProblem}`);
  if (facts.unsynced.length > 0) reasons.push(`caches not synced: ${facts.unsynced.join(', ')}`);
  if (reasons.length > 0) return { ready: false, detail: reasons.join('; ') };
  const gpu = facts.gpuMetrics === undefined ? '' : `; gpu metrics: ${facts.gpuMetrics}`;
  return { ready: true, detail: `role: ${facts.role}${gpu}` };
}

/** The caches that are not synced, as readiness names them: "pods", or "pods (list failed: 500 InternalError)". */
export function unsyncedCaches(
  caches: readonly { readonly name: string; readonly synced: boolean; readonly problem: string | undefined }[],
): string[] {
  return caches.filter((c) => !c.synced).map((c) => (c.problem === undefined ? c.name : `${c.name} (${c.problem})`));
}

/** The GPU metrics in counts only; why a query failed is in the log and the policies' MetricsAvailable condition. */
export function gpuMetricsState(
  measurement: { readonly available: boolean; readonly measuredPods: number; readonly unknownPods: number } | undefined,
): string {
  if (measurement === undefined) return 'no cycle yet';
  if (!measurement.available) return 'Prometheus query failed (the log says why)';
  const gpuPods = measurement.measuredPods + measurement.unknownPods;
  if (measurement.unknownPods > 0)
    return `${measurement.unknownPods} of ${gpuPods} GPU pods have no or too little DCGM data`;
  return 'all GPU pods measured';
}
