/**
 * The manager: every controller is `reconcile(key) => Result` on a keyed work queue of its own, so one key never
 * runs twice at once (a schedule firing during a policy pass runs after it, not beside it), failures back off,
 * and requeueAfter results are timers on the injected clock. Workers run only while this replica leads:
 * start() when it gains the lease, stop() when it loses it or shuts down (stop waits for running reconciles).
 * The synced gate is the controllers' own: a reconcile that finds its caches unsynced returns requeueAfter.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { errorSummary } from './errors.ts';
import {
  DEFAULT_RATE_LIMITER,
  runWorkers,
  WorkQueue,
  type QueueMetrics,
  type ReconcileOutcome,
  type Reconciler,
} from './workqueue.ts';

export interface ControllerSpec {
  readonly name: string;
  readonly reconcile: Reconciler;
  /** Parallel workers (different keys only); 1 for a singleton key. */
  readonly workers?: number;
  /** Keys to reconcile as soon as the workers start (a singleton controller's one key). */
  readonly initialKeys?: readonly string[];
  /** A queue the controller already feeds (e.g. the annotation writer's); else the manager makes one. */
  readonly queue?: WorkQueue;
}

export interface ManagerHooks {
  readonly queueMetrics?: QueueMetrics;
  onResult?(controller: string, outcome: ReconcileOutcome, durationMs: number): void;
}

interface Registered {
  readonly spec: ControllerSpec;
  queue: WorkQueue;
}

export class Manager {
  private readonly controllers = new Map<string, Registered>();
  private running: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hooks: ManagerHooks;

  constructor(clock: Clock, log: Logger, hooks: ManagerHooks = {}) {
    this.clock = clock;
    this.log = log;
    this.hooks = hooks;
  }

  register(spec: ControllerSpec): void {
    if (this.controllers.has(spec.name)) throw new Error(`controller ${spec.name} is registered twice`);
    this.controllers.set(spec.name, { spec, queue: spec.queue ?? this.newQueue(spec.name) });
  }

  /** Reconcile `key` of `controller` soon; de-duplicated while it waits; kept until the workers start. */
  enqueue(controller: string, key: string): void {
    this.get(controller).queue.add(key);
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Starts every controller's workers (this replica leads). */
  start(): void {
    if (this.running) return;
    const loops = [...this.controllers.values()].map((c) => {
      // A stopped queue cannot be restarted: a new leadership term gets a new one (its own queue excepted,
      // which the controller keeps feeding; shutting it down is left to the caller).
      for (const key of c.spec.initialKeys ?? []) c.queue.add(key);
      return runWorkers(c.queue, c.spec.workers ?? 1, c.spec.reconcile, this.clock, {
        onResult: (_key, outcome, ms) => this.hooks.onResult?.(c.spec.name, outcome, ms),
        onError: (key, error) =>
          this.log.error({ controller: c.spec.name, key, err: errorSummary(error) }, 'reconcile failed; retrying'),
      });
    });
    this.running = Promise.all(loops).then(() => undefined);
  }

  /** Stops taking keys and waits (at most `timeoutMs`) for the reconciles under way to finish. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const running = this.running;
    if (!running) return;
    for (const c of this.controllers.values()) c.queue.shutdown();
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, timeoutMs)));
    await Promise.race([running, timeout]);
    this.clock.clearTimeout(timer);
    this.running = undefined;
    for (const c of this.controllers.values()) if (!c.spec.queue) c.queue = this.newQueue(c.spec.name);
  }

  private get(name: string): Registered {
    const c = this.controllers.get(name);
    if (!c) throw new Error(`no controller ${name}`);
    return c;
  }

  private newQueue(name: string): WorkQueue {
    return new WorkQueue(name, this.clock, DEFAULT_RATE_LIMITER, this.hooks.queueMetrics);
  }
}
