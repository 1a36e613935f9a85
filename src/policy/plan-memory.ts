/**
 * Carrying a pass's outcome into PolicyMemory: a unit's changes once its effects were carried out, the status
 * entries it stands for, and the spot episodes that ended.
 */
import type { PolicyRecord } from '../crds/policy-record.ts';
import { formatMoney } from '../cost/money.ts';
import type { ActionRecord, Episode, PolicyMemory, Unit } from './plan-types.ts';
import { rfc3339 } from './plan-words.ts';

/** The most recent actions a policy's status lists. */
const MAX_ACTIONS = 20;

/** A policy's history starts from its status, so a restart or a new leader goes on counting from there. */
export function seedHistory(memory: PolicyMemory, policies: Iterable<PolicyRecord>): void {
  for (const p of policies) {
    if (memory.history.has(p.name)) continue;
    memory.history.set(p.name, { actions: [...(p.status?.lastActions ?? [])], count: p.status?.actionCount ?? 0 });
  }
}

export function commitUnit(memory: PolicyMemory, u: Unit): void {
  for (const [key, state] of u.memory.idle ?? []) {
    if (state === undefined) memory.idle.delete(key);
    else memory.idle.set(key, state);
  }
  for (const key of u.memory.audited?.remove ?? []) memory.audited.delete(key);
  for (const key of u.memory.audited?.add ?? []) memory.audited.add(key);
  for (const [key, pending] of u.memory.turningOff?.set ?? []) memory.turningOff.set(key, pending);
  for (const key of u.memory.turningOff?.remove ?? []) memory.turningOff.delete(key);
  for (const r of u.memory.reported ?? []) memory.reported[r.episode].add(r.key);
}

/** Adds a status entry to its policy's history; false when the policy is gone. */
export function recordAction(memory: PolicyMemory, r: ActionRecord, nowMs: number): boolean {
  const h = memory.history.get(r.policy);
  if (!h) return false;
  h.actions.unshift({
    workload: r.workload,
    rule: r.rule,
    action: r.action,
    mode: r.mode,
    time: rfc3339(nowMs),
    reason: r.reason,
    estimatedSavingPerHour: formatMoney(r.saving, 4),
  });
  h.actions.splice(MAX_ACTIONS);
  h.count += r.count ?? 1;
  return true;
}

/** Forgets the episodes not seen this pass, so a new one is reported again. */
export function forgetEnded(memory: PolicyMemory, seen: Iterable<{ episode: Episode; key: string }>): void {
  const current: Record<Episode, Set<string>> = { stale: new Set(), interrupted: new Set(), forgone: new Set() };
  for (const s of seen) current[s.episode].add(s.key);
  for (const episode of ['stale', 'interrupted', 'forgone'] as const) {
    for (const key of memory.reported[episode]) if (!current[episode].has(key)) memory.reported[episode].delete(key);
  }
}
