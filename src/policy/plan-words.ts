/** Annotation keys and wording the policy plan shares between its rules. */
import { toRfc3339 } from '../cost/ledger.ts';
import type { ActionRecord, Effect, MemoryChange, PlanWorkload, Unit, WorkloadKind } from './plan-types.ts';

export const POLICY_ANNOTATION = {
  idleSince: 'aicost.dev/idle-since',
  lastAction: 'aicost.dev/last-action',
  replicasBefore: 'aicost.dev/replicas-before',
  asleepSince: 'aicost.dev/asleep-since',
  wake: 'aicost.dev/wake',
  sleepHandled: 'aicost.dev/sleep-handled',
  pausedVia: 'aicost.dev/paused-via',
  doNotDisrupt: 'karpenter.sh/do-not-disrupt',
} as const;

export function actionVerb(kind: WorkloadKind): string {
  return kind === 'Job' ? 'suspend' : kind === 'Pod' ? 'evict' : 'scale-to-zero';
}
export function actionPast(kind: WorkloadKind): string {
  return kind === 'Job' ? 'suspended' : kind === 'Pod' ? 'evicted' : 'scaled to zero';
}
export function actionReason(kind: WorkloadKind): string {
  return kind === 'Job' ? 'Suspended' : kind === 'Pod' ? 'Evicted' : 'ScaledToZero';
}

export function workloadName(w: Pick<PlanWorkload, 'kind' | 'namespace' | 'name'>): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

/** RFC 3339 to the second, as every annotation and status time the operator writes. */
export function rfc3339(ms: number): string {
  return toRfc3339(Math.floor(ms / 1000));
}

export function formatInterval(ms: number): string {
  return ms % 3_600_000 === 0
    ? `${String(ms / 3_600_000)}h`
    : ms % 60_000 === 0
      ? `${String(ms / 60_000)}m`
      : `${String(ms / 1000)}s`;
}

export function unit(
  effects: readonly Effect[],
  rest: {
    records?: readonly ActionRecord[];
    realized?: Unit['realized'];
    memory?: MemoryChange;
  } = {},
): Unit {
  return { effects, records: rest.records ?? [], realized: rest.realized ?? [], memory: rest.memory ?? {} };
}

export function event(type: 'Normal' | 'Warning', reason: string, message: string): Effect {
  return { kind: 'event', type, reason, message };
}

export function annotate(annotations: Readonly<Record<string, string | null>>): Effect {
  return { kind: 'annotate', annotations };
}
