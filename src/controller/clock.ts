/** Time as a dependency, so schedules, backoff and accrual are tested with a fake clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** A clock that moves only when told to; timers fire in time order as it advances. */
export class FakeClock implements Clock {
  private currentMs: number;
  private timers: { atMs: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  constructor(startMs = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ atMs: this.currentMs + Math.max(0, ms), fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward, firing due timers in order (and letting promise callbacks run between them). */
  async advance(ms: number): Promise<void> {
    const target = this.currentMs + ms;
    for (;;) {
      // Let pending work run first: it may set timers that are already due.
      await flushPromises();
      this.timers.sort((a, b) => a.atMs - b.atMs || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.atMs > target) break;
      this.timers.shift();
      this.currentMs = Math.max(this.currentMs, next.atMs);
      next.fn();
    }
    this.currentMs = target;
    await flushPromises();
  }
}

export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
