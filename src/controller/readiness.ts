/** What /readyz answers, from what the composition root knows: a pure function, so its wording is tested. */
export interface ReadinessFacts {
  /** Caches not synced, by resource name, each with its reason when it has one (unsyncedCaches). */
  readonly unsynced: readonly string[];
  /** Why leader election cannot run at all (e.g. its namespace is missing); undefined while it can, or when off. */
  readonly electionProblem: string | undefined;
  readonly role: 'leader' | 'standby';
  /** The last accounting cycle's word on the GPU metrics. */
  readonly gpuMetrics: string;
}

/** Not ready while any reason holds, and the body names every one; once ready, the body says the role. */
export function readiness(facts: ReadinessFacts): { ready: boolean; detail: string } {
  const reasons: string[] = [];
  if (facts.electionProblem !== undefined) reasons.push(`leader election: ${facts.electionProblem}`);
  if (facts.unsynced.length > 0) reasons.push(`caches not synced: ${facts.unsynced.join(', ')}`);
  if (reasons.length > 0) return { ready: false, detail: reasons.join('; ') };
  return { ready: true, detail: `role: ${facts.role}; gpu metrics: ${facts.gpuMetrics}` };
}

/** The caches that are not synced, as readiness names them: "pods", or "pods (list failed: 500 InternalError)". */
export function unsyncedCaches(
  caches: readonly { readonly name: string; readonly synced: boolean; readonly problem: string | undefined }[],
): string[] {
  return caches.filter((c) => !c.synced).map((c) => (c.problem === undefined ? c.name : `${c.name} (${c.problem})`));
}
