/**
 * The aicost.dev/last-action annotation as a record the policy pass can read back: "<what> by policy <name>
 * (<rule>) at <RFC 3339>". Written on the workload with each action (Enforce) or would-be action (Audit), it
 * survives a restart, so an episode the previous process already recorded is not recorded again.
 */

const STAMP = / by policy (\S+) \((\w+)\) at (\S+)$/;

export function actionStamp(what: string, policy: string, rule: string, atRfc3339: string): string {
  return `${what} by policy ${policy} (${rule}) at ${atRfc3339}`;
}

/**
 * Whether the annotation records an action of this policy's rule at or after `sinceMs`, the start of the
 * current episode (the idle-since time, or the sleep schedule's fire time). Compared to the second, the
 * precision of the annotations.
 */
export function recordedSince(lastAction: string | undefined, policy: string, rule: string, sinceMs: number): boolean {
  const m = lastAction === undefined ? null : STAMP.exec(lastAction);
  if (!m || m[1] !== policy || m[2] !== rule) return false;
  const atMs = Date.parse(m[3] ?? '');
  return Number.isFinite(atMs) && atMs >= Math.floor(sinceMs / 1000) * 1000;
}
