/**
 * A keyed work queue with controller-runtime's semantics:
 * - a key waiting in the queue is not added twice (de-duplication);
 * - a key is never handed to two workers at once: added while being processed, it is queued again after done();
 * - per-key exponential backoff for failures (5 ms doubling to 1000 s) under a global token bucket
 *   (10 per second, burst 100), the larger delay wins;
 * - addAfter() for requeue-after results.
 */
import type { Clock } from './clock.ts';
import { isConflict } from './errors.ts';
import { TokenBucket } from './token-bucket.ts';

export interface QueueMetrics {
  adds?(name: string): void;
  depth?(name: string, depth: number): void;
  retries?(name: string): void;
}

export interface RateLimiterOptions {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly qps: number;
  readonly burst: number;
}

export const DEFAULT_RATE_LIMITER: RateLimiterOptions = { baseDelayMs: 5, maxDelayMs: 1_000_000, qps: 10, burst: 100 };

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { atMs: number; handle: unknown }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly bucket: TokenBucket;
  private shuttingDown = false;

  readonly name: string;
  private readonly clock: Clock;
  private readonly limiter: RateLimiterOptions;
  private readonly metrics: QueueMetrics;

  constructor(
    name: string,
    clock: Clock,
    limiter: RateLimiterOptions = DEFAULT_RATE_LIMITER,
    metrics: QueueMetrics = {},
  ) {
    this.name = name;
    this.clock = clock;
    this.limiter = limiter;
    this.metrics = metrics;
    this.bucket = new TokenBucket(limiter.qps, limiter.burst, clock);
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.adds?.(this.name);
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.metrics.depth?.(this.name, this.queue.length);
  }

  /** Adds the key after `ms`; an earlier pending add for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const atMs = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.atMs <= atMs) return;
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { atMs, handle });
  }

  /** Adds the key after its backoff delay and counts a failure for it. */
  addRateLimited(key: string): void {
    this.metrics.retries?.(this.name);
    this.addAfter(key, this.when(key));
  }

  /** Forgets a key's failures (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    // Shut down: keys still waiting are dropped, so a replica that stops leading starts no new work.
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics.depth?.(this.name, this.queue.length);
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const backoff = Math.min(this.limiter.maxDelayMs, this.limiter.baseDelayMs * 2 ** failures);
    // Each retry takes a token; an empty bucket delays until the next token.
    return Math.max(backoff, this.bucket.reserve());
  }
}

export interface ReconcileResult {
  /** Reconcile this key again after this long (a periodic check, not a failure). */
  readonly requeueAfterMs?: number;
}

export type Reconciler = (key: string) => Promise<ReconcileResult | undefined>;

/**
 * An error retrying cannot fix (invalid input that only a user can change): the key is not requeued; the
 * reconciler has already said why (a condition, an Event). It comes back when something enqueues it again.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export type ReconcileOutcome = 'success' | 'error' | 'requeue_after' | 'conflict' | 'terminal';

export interface WorkerHooks {
  onResult?(key: string, outcome: ReconcileOutcome, durationMs: number): void;
  /** Errors worth a log line: not 409 conflicts, which only mean the cache was behind. */
  onError?(key: string, error: unknown): void;
}

/**
 * Runs `workers` loops taking keys from the queue until it shuts down. Errors back off; a 409 conflict
 * requeues with backoff but quietly (no error hook); a TerminalError is not retried.
 */
export function runWorkers(
  queue: WorkQueue,
  workers: number,
  reconcile: Reconciler,
  clock: Clock,
  hooks: WorkerHooks = {},
): Promise<void> {
  const loop = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const startedMs = clock.now();
      try {
        const result = await reconcile(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) {
          queue.addAfter(key, result.requeueAfterMs);
          hooks.onResult?.(key, 'requeue_after', clock.now() - startedMs);
        } else {
          hooks.onResult?.(key, 'success', clock.now() - startedMs);
        }
      } catch (error) {
        const outcome = error instanceof TerminalError ? 'terminal' : isConflict(error) ? 'conflict' : 'error';
        hooks.onResult?.(key, outcome, clock.now() - startedMs);
        if (outcome !== 'conflict') hooks.onError?.(key, error);
        if (outcome === 'terminal') queue.forget(key);
        else queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  return Promise.all(Array.from({ length: workers }, loop)).then(() => undefined);
}
