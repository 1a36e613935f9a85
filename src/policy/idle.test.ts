import { describe, expect, it } from 'vitest';
import { decideIdle, type IdleRule, type IdleState, type WindowMeasure } from './idle.ts';

const MIN = 60_000;
const rule: IdleRule = { threshold: 0.05, idleAfterMs: 30 * MIN, gracePeriodMs: 10 * MIN, minCoverage: 0.8 };
const T = Date.UTC(2026, 10, 23, 9, 0);
const quiet = (startMin: number, over: Partial<WindowMeasure> = {}): WindowMeasure => ({
  known: true,
  reason: '',
  maxUtilization: 0.01,
  coverage: 1,
  windowStartMs: T + startMin * MIN,
  ...over,
});

/** Runs one-minute windows from minute `from` to `to` (exclusive), feeding the state through. */
function run(windows: (minute: number) => WindowMeasure, from: number, to: number, initial: IdleState = {}) {
  let state = initial;
  const decisions: string[] = [];
  for (let m = from; m < to; m++) {
    const r = decideIdle(rule, state, windows(m), T + (m + 1) * MIN);
    state = r.state;
    decisions.push(r.decision.kind + (r.clearAnnotation ? '+clear' : ''));
  }
  return { state, decisions };
}

describe('idle decisions', () => {
  it('warns after idleAfter of quiet windows and acts after the grace period', () => {
    const { decisions } = run((m) => quiet(m), 0, 41);
    expect(decisions.slice(0, 29).every((d) => d === 'below')).toBe(true);
    expect(decisions[29]).toBe('warn'); // at minute 30
    expect(decisions.slice(30, 39).every((d) => d === 'grace')).toBe(true);
    expect(decisions[39]).toBe('act'); // at minute 40 = warning + 10 min
    expect(decisions[40]).toBe('act');
  });

  it.each([
    ['activity', quiet(15, { maxUtilization: 0.5 }), 'active'],
    ['unknown metrics', quiet(15, { known: false, reason: 'Prometheus down' }), 'unknown'],
    ['partial coverage', quiet(15, { coverage: 0.5 }), 'unknown'],
    ['requests served', quiet(15, { requestRate: 0.2, requestsKnown: true }), 'active'],
    ['a failed request query', quiet(15, { requestRate: 0, requestsKnown: false }), 'unknown'],
  ])('%s in the middle resets the clock', (_name, window, kind) => {
    const { decisions } = run((m) => (m === 15 ? window : quiet(m)), 0, 46);
    expect(decisions[15]).toBe(kind);
    expect(decisions.indexOf('warn')).toBe(45); // 30 minutes after minute 16
  });

  it('clears a declared idle state when the workload becomes active again', () => {
    const declared: IdleState = { belowSinceMs: T, idleSinceMs: T, warnedAtMs: T + 30 * MIN };
    const r = decideIdle(rule, declared, quiet(35, { maxUtilization: 0.9 }), T + 36 * MIN);
    expect(r.decision.kind).toBe('active');
    expect(r.clearAnnotation).toBe(true);
    expect(r.state).toEqual({});
  });

  it('resumes from the idle-since annotation after a restart, without warning twice', () => {
    // A new process knows only the annotation: idle since T (declared at T+30m).
    const r1 = decideIdle(rule, { idleSinceMs: T }, quiet(35), T + 36 * MIN);
    expect(r1.decision).toEqual({ kind: 'grace', actAtMs: T + 40 * MIN });
    const r2 = decideIdle(rule, r1.state, quiet(39), T + 40 * MIN);
    expect(r2.decision).toEqual({ kind: 'act', idleSinceMs: T });
  });

  it('treats a threshold-level sample as activity', () => {
    expect(decideIdle(rule, {}, quiet(0, { maxUtilization: 0.05 }), T + MIN).decision.kind).toBe('active');
  });
});
