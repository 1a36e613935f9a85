/**
 * List-then-watch into a compact store. client-node's informer keeps whole objects, stops on most errors
 * and has been seen to stall silently; this reflector keeps only a projection per object (the fields the
 * operator needs), and it heals itself:
 * 1. list in pages, replace the store, report deletions that happened while not watching;
 * 2. watch from the list's resourceVersion with bookmarks; every event updates the store;
 * 3. on a watch the server ended, watch again from the last resourceVersion; on 410 Gone or any other error,
 *    relist after a backoff (backoff.ts: 1 s doubling to 60 s with jitter, reset once a watch has stayed up);
 * 4. a watch with no data for the inactivity timeout is cut by the client (stall detection), and the store
 *    is relisted on a period anyway, so a lost event cannot live longer than that period.
 * A failed list makes the store not synced, with the reason, until a list succeeds: a store that cannot be
 * listed may hold objects long deleted, and every decision waits for synced stores (the synced gate).
 */
import type { Logger } from 'pino';
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { Clock } from './clock.ts';
import { errorSummary, KubeApiError } from './errors.ts';
import type { KubeClient, WatchEventType, WatchHandle } from './kube-client.ts';

export interface KubeObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly uid?: string;
  };
}

export type ChangeHandler<P> = (key: string, current: P | undefined, previous: P | undefined) => void;

export interface ReflectorOptions<P> {
  readonly name: string;
  /** Collection path, e.g. /api/v1/pods or /apis/batch/v1/jobs. */
  readonly path: string;
  /** Compact projection of an object; undefined leaves it out of the store. */
  readonly project: (object: never) => P | undefined;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly pageSize?: number;
  readonly relistIntervalMs?: number | undefined;
  readonly watchTimeoutSeconds?: number;
  /** The backoff after a failure; WATCH_BACKOFF unless a test fixes its jitter. */
  readonly backoff?: BackoffOptions;
}

export interface ReflectorHooks {
  onError?(name: string, error: unknown): void;
  /** After every list: whether the store is synced now (the list succeeded) or not (it failed). */
  onSynced?(name: string, synced: boolean): void;
}

/** A watch the server ends this soon without a single event counts as a failure, not as a normal end. */
const SHORT_WATCH_MS = 1000;

export function objectKey(object: KubeObject): string {
  const ns = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export class Reflector<P> {
  readonly store = new Map<string, P>();
  private readonly handlers: ChangeHandler<P>[] = [];
  private listed = false;
  private listProblem: string | undefined;
  private stopped = true;
  private resourceVersion = '';
  private watchHandle: WatchHandle | undefined;
  private unwatchedSince: number | undefined;
  private relistTimer: unknown;
  private retryTimer: unknown;
  private readonly backoff: Backoff;
  private readonly options: ReflectorOptions<P>;
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hooks: ReflectorHooks;
  private generation = 0;

  constructor(options: ReflectorOptions<P>, client: KubeClient, clock: Clock, log: Logger, hooks: ReflectorHooks = {}) {
    this.options = options;
    this.client = client;
    this.clock = clock;
    this.log = log.child({ reflector: options.name });
    this.hooks = hooks;
    this.backoff = new Backoff(clock, options.backoff);
  }

  get name(): string {
    return this.options.name;
  }

  /** Listed at least once, and the last list succeeded. */
  get synced(): boolean {
    return this.listed && this.listProblem === undefined;
  }

  /** Why the store is not synced though it was listed before (its last list failed); else undefined. */
  get problem(): string | undefined {
    return this.listProblem;
  }

  /**
   * Since when no watch has kept the store current; undefined while one does. An object a relist finds gone
   * was last known to exist then, so a change handler can date its deletion no later than that.
   */
  get unwatchedSinceMs(): number | undefined {
    return this.unwatchedSince;
  }

  onChange(handler: ChangeHandler<P>): void {
    this.handlers.push(handler);
  }

  /** Starts listing and watching; resolves once the first list is in the store. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.relist();
  }

  /** Lists again now (a new leader calls it so it starts from everything the previous leader wrote). */
  async resync(): Promise<void> {
    if (!this.stopped) await this.relist();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.watchHandle?.abort();
    this.clock.clearTimeout(this.relistTimer);
    this.clock.clearTimeout(this.retryTimer);
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.watchHandle?.abort();
    this.watchHandle = undefined;
    this.unwatchedSince ??= this.clock.now();
    this.clock.clearTimeout(this.relistTimer);
    this.clock.clearTimeout(this.retryTimer);
    let listed: { fresh: Map<string, P>; resourceVersion: string };
    try {
      listed = await this.list();
    } catch (error) {
      if (generation !== this.generation) return;
      this.listProblem = `list failed: ${problemOf(error)}`;
      this.hooks.onSynced?.(this.options.name, false);
      this.retry(generation, error);
      return;
    }
    if (generation !== this.generation) return;
    this.replace(listed.fresh);
    this.resourceVersion = listed.resourceVersion;
    this.listed = true;
    this.listProblem = undefined;
    this.hooks.onSynced?.(this.options.name, true);
    this.relistTimer = this.clock.setTimeout(() => void this.relist(), this.options.relistIntervalMs ?? 10 * 60_000);
    try {
      await this.watch(generation);
    } catch (error) {
      this.retry(generation, error);
    }
  }

  /** Every page of the collection, each item projected as it arrives: a page is never held whole. */
  private async list(): Promise<{ fresh: Map<string, P>; resourceVersion: string }> {
    const fresh = new Map<string, P>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.client.listEach(
        this.options.path,
        {
          limit: this.options.pageSize ?? 500,
          continue: continueToken,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        (item) => {
          const projected = this.options.project(item as never);
          if (projected !== undefined) fresh.set(objectKey(item as KubeObject), projected);
        },
      );
      continueToken = page.continue || undefined;
      resourceVersion = page.resourceVersion ?? '';
    } while (continueToken);
    return { fresh, resourceVersion };
  }

  private replace(fresh: Map<string, P>): void {
    for (const [key, previous] of this.store) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.emit(key, undefined, previous);
      }
    }
    for (const [key, current] of fresh) {
      const previous = this.store.get(key);
      this.store.set(key, current);
      this.emit(key, current, previous);
    }
  }

  private async watch(generation: number): Promise<void> {
    if (this.stopped || generation !== this.generation) return;
    const openedAtMs = this.clock.now();
    let events = 0;
    const handle = await this.client.watch(
      this.options.path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
      },
      (type, object) => {
        if (generation !== this.generation) return;
        events++;
        this.handleEvent(type, object as KubeObject);
      },
      (error) => {
        if (generation !== this.generation || this.stopped) return;
        if (error !== null && error !== undefined) this.retry(generation, error);
        // Ended by the server at once, with nothing: watching again at once would spin, so back off and relist.
        else if (events === 0 && this.clock.now() - openedAtMs < SHORT_WATCH_MS)
          this.retry(generation, new Error('the watch ended at once without an event'));
        // Ended normally (its timeout): resume from the last version.
        else void this.watch(generation);
      },
    );
    if (generation !== this.generation) {
      handle.abort(); // it failed as it opened, and a retry is under way
      return;
    }
    this.watchHandle = handle;
    this.unwatchedSince = undefined;
    this.backoff.healthy();
  }

  private handleEvent(type: WatchEventType, object: KubeObject): void {
    if (type === 'ERROR') {
      // 410 Gone (our resourceVersion is too old) or another error: relist, after the backoff. Relisting at once
      // on a 410 gave thousands of lists a second against a server that answers every watch with it.
      const status = object as { code?: number; reason?: string; message?: string };
      const error = new KubeApiError(
        status.code ?? 0,
        status.reason ?? 'WatchError',
        status.message ?? 'watch error event',
      );
      this.retry(this.generation, error);
      return;
    }
    const rv = object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const key = objectKey(object);
    const previous = this.store.get(key);
    if (type === 'DELETED') {
      if (previous !== undefined) {
        this.store.delete(key);
        this.emit(key, undefined, previous);
      }
      return;
    }
    const current = this.options.project(object as never);
    if (current === undefined) {
      if (previous !== undefined) {
        this.store.delete(key);
        this.emit(key, undefined, previous);
      }
      return;
    }
    this.store.set(key, current);
    this.emit(key, current, previous);
  }

  private retry(generation: number, error: unknown): void {
    if (this.stopped || generation !== this.generation) return;
    this.generation++;
    this.watchHandle?.abort();
    this.watchHandle = undefined;
    this.unwatchedSince ??= this.clock.now();
    this.hooks.onError?.(this.options.name, error);
    const retryInMs = this.backoff.next();
    const code = error instanceof KubeApiError ? error.code : undefined;
    if (code === 404) {
      // The resource is not served (a CRD not installed yet): say so once, keep retrying quietly.
      if (this.backoff.failures === 1)
        this.log.info({ path: this.options.path }, 'resource not served by the API server; retrying until it is');
    } else if (code === 410) {
      this.log.info({ retryInMs }, 'watch expired (410 Gone); relisting after backoff');
    } else {
      this.log.warn({ err: errorSummary(error), code, retryInMs }, 'list/watch failed; relisting after backoff');
    }
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => void this.relist(), retryInMs);
  }

  private emit(key: string, current: P | undefined, previous: P | undefined): void {
    for (const handler of this.handlers) {
      try {
        handler(key, current, previous);
      } catch (error) {
        this.log.error({ err: errorSummary(error), key }, 'change handler failed');
      }
    }
  }
}

/** A failed list in a few words for /readyz: the API server's code and reason, else the error's message. */
function problemOf(error: unknown): string {
  if (error instanceof KubeApiError && error.code > 0) return `${String(error.code)} ${error.reason}`;
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
