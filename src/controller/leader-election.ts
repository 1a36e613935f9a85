/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: a candidate takes the
 * Lease when its holder has not renewed it for leaseDuration (measured on the candidate's own clock from
 * the moment it last saw the record change, so clock skew between replicas does not matter); the leader
 * renews every retryPeriod and steps down once it has not renewed for renewDeadline; on shutdown it releases
 * the Lease so a standby takes over at once. Updates carry the resourceVersion, so two candidates never both win.
 *
 * No split brain when the API server hangs: a renewal counts from the moment its attempt began (the Lease's
 * renewTime is no earlier, so a standby waits leaseDuration from a later moment), every Lease call is cut off at
 * the renew deadline (the client's own 30 s timeout outlives a 15 s lease), and a watchdog on the clock steps
 * down at the renew deadline even when a call never returns. The config ensures renewDeadline < leaseDuration.
 */
import type { Logger } from 'pino';
import { collectionPath } from './api-paths.ts';
import type { Clock } from './clock.ts';
import type { KubeClient } from './kube-client.ts';
import { errorSummary, isConflict, isNamespaceNotFound, isNotFound } from './errors.ts';

/** Leases take MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private observedRecord = '';
  private observedAtMs = 0;
  private lastRenewAt = 0;
  private namespaceMissing = false;
  private timer: unknown;
  private watchdog: unknown;
  private readonly options: LeaderElectionOptions;
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly callbacks: LeaderCallbacks;

  constructor(
    options: LeaderElectionOptions,
    client: KubeClient,
    clock: Clock,
    log: Logger,
    callbacks: LeaderCallbacks,
  ) {
    this.options = options;
    this.client = client;
    this.clock = clock;
    this.log = log.child({ component: 'leader-election', lease: `${options.namespace}/${options.name}` });
    this.callbacks = callbacks;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Why this replica cannot campaign at all (its Lease's namespace does not exist), for /readyz; undefined
   * while the Lease calls work. Retrying cannot fix it, so it is an error, not a standby's normal wait.
   */
  get problem(): string | undefined {
    return this.namespaceMissing ? `namespace "${this.options.namespace}" not found` : undefined;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  private get path(): string {
    return collectionPath('Lease', this.options.namespace);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), this.options.retryPeriodMs);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const startedMs = this.clock.now();
    // A leader's calls end at its renew deadline (past it, it has stepped down); a candidate's a renew deadline on.
    const call = this.deadline(this.leading ? this.lastRenewAt : startedMs);
    try {
      // Raced with the signal, so that a call deaf to it cannot hold the loop either.
      const ok = await untilAborted(this.tryAcquireOrRenew(startedMs, call.signal), call.signal);
      this.noteNamespaceMissing(false);
      if (ok) this.renewed(startedMs);
    } catch (error) {
      if (isNamespaceNotFound(error, this.options.namespace)) this.noteNamespaceMissing(true);
      else this.log.warn({ err: errorSummary(error) }, 'lease update failed');
    } finally {
      call.release();
    }
    this.checkRenewDeadline();
    this.schedule();
  }

  /** A signal that aborts the Lease calls of an attempt a renew deadline after `fromMs`. */
  private deadline(fromMs: number): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    const { renewDeadlineMs } = this.options;
    const timer = this.clock.setTimeout(
      () =>
        controller.abort(new Error(`the Lease calls did not finish within the renew deadline (${renewDeadlineMs} ms)`)),
      fromMs + renewDeadlineMs - this.clock.now(),
    );
    return { signal: controller.signal, release: () => this.clock.clearTimeout(timer) };
  }

  /** The attempt begun at `startedMs` took or renewed the Lease: lead until a renew deadline after it. */
  private renewed(startedMs: number): void {
    const untilMs = startedMs + this.options.renewDeadlineMs;
    if (this.clock.now() >= untilMs) return; // too late to count: the watchdog has stepped down, or will now
    this.lastRenewAt = startedMs;
    this.clock.clearTimeout(this.watchdog);
    this.watchdog = this.clock.setTimeout(() => this.checkRenewDeadline(), untilMs - this.clock.now());
    if (this.leading) return;
    this.leading = true;
    this.log.info({ identity: this.options.identity }, 'became the leader');
    this.callbacks.onStartedLeading();
  }

  /** The watchdog: a leader that has not renewed for the renew deadline steps down, whatever its calls do. */
  private checkRenewDeadline(): void {
    if (this.leading && this.clock.now() - this.lastRenewAt >= this.options.renewDeadlineMs)
      this.loseLeadership('could not renew the lease within the renew deadline');
  }

  /** Logs once when the namespace goes missing (the retries every retryPeriod stay quiet), and once when found. */
  private noteNamespaceMissing(missing: boolean): void {
    if (missing === this.namespaceMissing) return;
    this.namespaceMissing = missing;
    const { namespace } = this.options;
    if (missing)
      this.log.error(
        `leader election: namespace "${namespace}" not found: create it (kubectl create namespace ${namespace}) ` +
          'or pass --leader-election-namespace with one that exists; retrying until then',
      );
    else this.log.info(`leader election: namespace "${namespace}" found`);
  }

  private loseLeadership(reason: string): void {
    this.leading = false;
    this.clock.clearTimeout(this.watchdog);
    this.log.error({ reason }, 'lost leadership');
    this.callbacks.onStoppedLeading();
  }

  private async tryAcquireOrRenew(nowMs: number, signal: AbortSignal): Promise<boolean> {
    const nowIso = microTime(nowMs);
    const { identity, leaseDurationMs } = this.options;
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(`${this.path}/${this.options.name}`, { signal });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.client.create(
          this.path,
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.options.name, namespace: this.options.namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
              acquireTime: nowIso,
              renewTime: nowIso,
              leaseTransitions: 0,
            },
          },
          { signal },
        );
        return true;
      } catch (createError) {
        if (isConflict(createError)) return false; // another candidate created it first
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
    if (record !== this.observedRecord) {
      this.observedRecord = record;
      this.observedAtMs = nowMs;
    }
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(leaseDurationMs / 1000)) * 1000;
    const held = holder !== '' && holder !== identity && this.observedAtMs + durationMs > nowMs;
    if (held) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    try {
      await this.client.replace(
        `${this.path}/${this.options.name}`,
        {
          ...lease,
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
            acquireTime: holder === identity ? spec.acquireTime : nowIso,
            renewTime: nowIso,
            leaseTransitions: transitions,
          },
        },
        { signal },
      );
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // someone else updated it between our read and write
      throw error;
    }
  }

  /** Stops campaigning and, if leading, releases the Lease so a standby can take it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.clock.clearTimeout(this.watchdog);
    if (!this.leading) return;
    this.leading = false;
    const call = this.deadline(this.clock.now());
    try {
      await untilAborted(this.releaseLease(call.signal), call.signal);
    } catch (error) {
      this.log.warn({ err: errorSummary(error) }, 'could not release the lease');
    } finally {
      call.release();
    }
  }

  private async releaseLease(signal: AbortSignal): Promise<void> {
    const lease = await this.client.get<Lease>(`${this.path}/${this.options.name}`, { signal });
    if (lease.spec?.holderIdentity !== this.options.identity) return;
    const nowIso = microTime(this.clock.now());
    await this.client.replace(
      `${this.path}/${this.options.name}`,
      { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: nowIso } },
      { signal },
    );
    this.log.info('released the lease');
  }
}

/** Settles as `call` does, or rejects with the signal's reason once it aborts, whichever comes first. */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    void call.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
