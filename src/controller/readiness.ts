/** What /readyz answers, from what the composition root knows: a pure function, so its wording is tested. */
export interface ReadinessFacts {
  /** Caches that have not synced yet, by resource name. */
  readonly unsynced: readonly string[];
  /** Why leader election cannot run at all (e.g. its namespace is missing); undefined while it can, or when off. */
  readonly electionProblem: string | undefined;
  /** 'webhook': the webhook-only role (`aicost webhook`), which neither elects nor accounts. */
  readonly role: 'leader' | 'standby' | 'webhook';
  /** The last accounting cycle's word on the GPU metrics; undefined where nothing is accounted. */
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
