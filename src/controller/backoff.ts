/**
 * The reflector's backoff between a failed list or watch and the next list, as client-go's reflector has it:
 * exponential (1 s doubling to 60 s), with jitter so that replicas and resources do not retry in step, and reset
 * only once a watch has stayed up for a while. A reset on every successful list was not enough: a watch that
 * answers 410 Gone at once follows a list that succeeds, and that reset gave a list a second (601 in 10 minutes).
 */
import type { Clock } from './clock.ts';

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A watch up for this long resets the backoff: the next failure waits initialMs again. */
  readonly resetAfterMs: number;
  /** Each wait is its step times 1 to 1 + jitter. */
  readonly jitter: number;
  /** 0 (inclusive) to 1 (exclusive); Math.random unless a test fixes it. */
  readonly random: () => number;
}

export const WATCH_BACKOFF: BackoffOptions = {
  initialMs: 1000,
  maxMs: 60_000,
  resetAfterMs: 120_000,
  jitter: 0.5,
  random: Math.random,
};

export class Backoff {
  private stepMs = 0;
  private failureCount = 0;
  private healthySinceMs: number | undefined;
  private readonly clock: Clock;
  private readonly options: BackoffOptions;

  constructor(clock: Clock, options: BackoffOptions = WATCH_BACKOFF) {
    this.clock = clock;
    this.options = options;
  }

  /** Failures since the last reset (1 on the first), e.g. to say something once. */
  get failures(): number {
    return this.failureCount;
  }

  /** A watch is up (again); the time it has stayed up counts from its first report. */
  healthy(): void {
    this.healthySinceMs ??= this.clock.now();
  }

  /** A failure: how long to wait before trying again. */
  next(): number {
    const { initialMs, maxMs, resetAfterMs, jitter, random } = this.options;
    const since = this.healthySinceMs;
    this.healthySinceMs = undefined;
    if (since !== undefined && this.clock.now() - since >= resetAfterMs) {
      this.stepMs = 0;
      this.failureCount = 0;
    }
    this.failureCount++;
    this.stepMs = this.stepMs === 0 ? initialMs : Math.min(maxMs, this.stepMs * 2);
    return Math.round(this.stepMs * (1 + jitter * random()));
  }
}
