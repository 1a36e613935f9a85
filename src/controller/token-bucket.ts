/**
 * The one client-side token bucket: the work queue's global retry limit (controller-runtime's 10 qps,
 * burst 100) and the annotation writer's --write-qps/--write-burst both draw from an instance of it. Time
 * comes from the injected clock, so tests drive it with a fake one.
 */
import type { Clock } from './clock.ts';

export class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;

  /** Starts full: `burst` tokens, refilled at `qps` tokens per second up to `burst`. */
  constructor(qps: number, burst: number, clock: Clock) {
    this.qps = qps;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.lastRefillMs = clock.now();
  }

  /**
   * Takes a token now, going into debt when there is none, and returns how long the caller must wait
   * before acting on it: 0 while tokens remain, else until the debt is repaid.
   */
  reserve(): number {
    const nowMs = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastRefillMs) / 1000) * this.qps);
    this.lastRefillMs = nowMs;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** Takes a token, waiting on the clock for it when the bucket is empty. */
  async take(): Promise<void> {
    const waitMs = this.reserve();
    if (waitMs > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, waitMs));
  }
}
