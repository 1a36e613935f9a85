/**
 * Writes the cost annotations with a JSON merge patch on metadata.annotations only, never anything else.
 * Writes are bounded three ways: an object is written only when a value changed at its displayed precision
 * (displayKey), at most once per --annotate-interval, and under a client-side token bucket
 * (--write-qps/--write-burst). Keys go through a de-duplicating work queue, so a burst of changes to one
 * object becomes one patch with the latest values. A change of shape (a figure that becomes known, or stops
 * being known: an endpoint's unit costs) is written at once: the interval bounds how often values are
 * refreshed, not how long a new figure waits.
 *
 * Only the leader writes; a new leader relists before its first cycle, so it starts from the previous
 * leader's last write. Pod patches carry the pod's uid: a pod re-created under the same name is not
 * written with the old pod's cost.
 */
import type { Logger } from 'pino';
import { objectPath } from '../controller/api-paths.ts';
import type { Clock } from '../controller/clock.ts';
import type { KubeClient } from '../controller/kube-client.ts';
import type { Metrics } from '../controller/metrics.ts';
import { errorSummary, isNotFound } from '../controller/errors.ts';
import { TokenBucket } from '../controller/token-bucket.ts';
import type { ReconcileResult, WorkQueue } from '../controller/workqueue.ts';

export interface WriteTarget {
  readonly kind: 'Pod' | 'Job' | 'Deployment' | 'StatefulSet' | 'Namespace';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** The ledger id in the accountant: pod uid, workload key or namespace name. */
  readonly id: string;
}

interface State {
  target: WriteTarget;
  /** Renders the latest annotations (null removes a key); called only when a write happens. */
  render: () => Record<string, string | null>;
  key: string;
  writtenKey: string | undefined;
  writtenAtMs: number;
  shape: string;
  writtenShape: string;
}

export function targetKey(t: Pick<WriteTarget, 'kind' | 'namespace' | 'name'>): string {
  return `${t.kind}/${t.namespace}/${t.name}`;
}

export interface AnnotationWriterDeps {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly queue: WorkQueue;
  readonly annotateIntervalMs: number;
  readonly writeQps: number;
  readonly writeBurst: number;
}

export class AnnotationWriter {
  private readonly states = new Map<string, State>();
  private readonly bucket: TokenBucket;
  private readonly deps: AnnotationWriterDeps;

  constructor(deps: AnnotationWriterDeps) {
    this.deps = deps;
    this.bucket = new TokenBucket(deps.writeQps, deps.writeBurst, deps.clock);
  }

  /**
   * Offers the latest state of an object: its display key (see annotations.displayKey), how to render its
   * annotations, and their shape (which figures are known; undefined: as last written, for objects whose
   * figures are always known or whose shape is not known this time). Returns whether a write was scheduled.
   */
  offer(target: WriteTarget, displayKey: string, render: () => Record<string, string | null>, shape?: string): boolean {
    const key = targetKey(target);
    let state = this.states.get(key);
    if (!state || state.target.uid !== target.uid) {
      state = { target, render, key: displayKey, writtenKey: undefined, writtenAtMs: 0, shape: '', writtenShape: '' };
      this.states.set(key, state);
    }
    state.render = render;
    state.key = displayKey;
    state.shape = shape ?? state.writtenShape;
    if (displayKey === state.writtenKey) return false;
    const dueMs = state.shape === state.writtenShape ? state.writtenAtMs + this.deps.annotateIntervalMs : 0;
    this.deps.queue.addAfter(key, Math.max(0, dueMs - this.deps.clock.now()));
    return true;
  }

  /** Forgets everything (after a leader change). */
  reset(): void {
    this.states.clear();
  }

  /**
   * Forgets the objects that are gone (`live` says no): a write to them would find nothing, and their state
   * would stay for as long as the process runs. Returns how many were forgotten.
   */
  forgetGone(live: (target: WriteTarget) => boolean): number {
    let forgotten = 0;
    for (const [key, state] of this.states) {
      if (live(state.target)) continue;
      this.states.delete(key);
      forgotten++;
    }
    return forgotten;
  }

  /** How many objects the writer keeps a state for (tests, aicost_tracked_objects). */
  get size(): number {
    return this.states.size;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const state = this.states.get(key);
    if (!state) return undefined;
    const { target } = state;
    const writtenKey = state.key;
    const writtenShape = state.shape;
    if (writtenKey === state.writtenKey) return undefined;
    await this.bucket.take();
    const metadata: Record<string, unknown> = { annotations: state.render() };
    if (target.kind === 'Pod' && target.uid) metadata.uid = target.uid;
    try {
      await this.deps.client.patch(objectPath(target.kind, target.namespace, target.name), { metadata }, 'merge');
      state.writtenKey = writtenKey;
      state.writtenShape = writtenShape;
      state.writtenAtMs = this.deps.clock.now();
      this.deps.metrics.annotationWrites.inc({ kind: target.kind, result: 'success' });
      return undefined;
    } catch (error) {
      if (isNotFound(error)) {
        this.states.delete(key); // the object is gone; its cost lives on in its workload and namespace
        this.deps.metrics.annotationWrites.inc({ kind: target.kind, result: 'not_found' });
        return undefined;
      }
      this.deps.metrics.annotationWrites.inc({ kind: target.kind, result: 'error' });
      this.deps.log.warn(
        { kind: target.kind, namespace: target.namespace, name: target.name, err: errorSummary(error) },
        'annotation patch failed; retrying with backoff',
      );
      throw error;
    }
  }
}
