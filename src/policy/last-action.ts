/**
 * The aicost.dev/last-action annotation as a record the policy pass can read back: "<what> by policy <name>
 * (<rule>) at <RFC 3339>". Written on the workload with each action (Enforce) or would-be action (Audit), it
 * survives a restart, so an episode the previous process already recorded is not recorded again.
 */
import { parseRfc3339Ms } from '../cost/ledger.ts';

const STAMP = / by policy (\S+) \((\w+)\) at (\S+)$/;

export function actionStamp(what: string, policy: string, rule: string, atRfc3339: string): string {
  return `${what} by policy ${policy} (${rule}) at ${atRfc3339}`;
}

/**
 * A time the operator wrote in an annotation, read back as untrusted input: the tenant who owns the workload
 * can edit it. Undefined (as if absent) unless it is RFC 3339 in UTC and not after `nowMs`: garbage must not
 * start an idle episode at once, and a future time must not hold one off or make a record look current.
 */
export function pastRfc3339Ms(text: string | undefined, nowMs: number): number | undefined {
  const ms = parseRfc3339Ms(text);
  return ms !== undefined && ms <= nowMs ? ms : undefined;
}

/**
 * Whether the annotation records an action of this policy's rule at or after `sinceMs`, the start of the
 * current episode (the idle-since time, or the sleep schedule's fire time), and not after `nowMs`. Compared
 * to the second, the precision of the annotations.
 */
export function recordedSince(
  lastAction: string | undefined,
  policy: string,
  rule: string,
  sinceMs: number,
  nowMs: number,
): boolean {
  const m = lastAction === undefined ? null : STAMP.exec(lastAction);
  if (!m || m[1] !== policy || m[2] !== rule) return false;
  const atMs = pastRfc3339Ms(m[3], nowMs);
  return atMs !== undefined && atMs >= Math.floor(sinceMs / 1000) * 1000;
}
