/**
 * List-then-watch into a compact store. client-node's informer keeps whole objects, stops on most errors
 * and has been seen to stall silently; this reflector keeps only a projection per object (the fields the
 * operator needs), and it heals itself:
 * 1. list in pages, replace the store, report deletions that happened while not watching;
 * 2. watch from the list's resourceVersion with bookmarks; every event updates the store;
 * 3. on a closed watch, watch again from the last resourceVersion; on 410 Gone, relist; on any other error,
 *    back off (1 s doubling to 30 s) and relist;
 * 4. a watch with no data for the inactivity timeout is cut by the client (stall detection), and the store
 *    is relisted on a period anyway, so a lost event cannot live longer than that period.
 */
import type { Logger } from 'pino';
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
}

export interface ReflectorHooks {
  onError?(name: string, error: unknown): void;
  onRelist?(name: string): void;
}

export function objectKey(object: KubeObject): string {
  const ns = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export class Reflector<P> {
  readonly store = new Map<string, P>();
  private readonly handlers: ChangeHandler<P>[] = [];
  private hasSynced = false;
  private stopped = true;
  private resourceVersion = '';
  private watchHandle: WatchHandle | undefined;
  private relistTimer: unknown;
  private retryTimer: unknown;
  private backoffMs = 0;
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
  }

  get name(): string {
    return this.options.name;
  }

  get synced(): boolean {
    return this.hasSynced;
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
    this.clock.clearTimeout(this.relistTimer);
    try {
      const fresh = new Map<string, P>();
      let continueToken: string | undefined;
      let resourceVersion = '';
      do {
        // Each item is projected as it arrives: a page is never held whole.
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
      if (generation !== this.generation) return;
      this.replace(fresh);
      this.resourceVersion = resourceVersion;
      this.hasSynced = true;
      this.backoffMs = 0;
      this.hooks.onRelist?.(this.options.name);
      this.relistTimer = this.clock.setTimeout(() => void this.relist(), this.options.relistIntervalMs ?? 10 * 60_000);
      await this.watch(generation);
    } catch (error) {
      this.retry(generation, error);
    }
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
    this.watchHandle = await this.client.watch(
      this.options.path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
      },
      (type, object) => {
        if (generation === this.generation) this.handleEvent(type, object as KubeObject);
      },
      (error) => {
        if (generation !== this.generation || this.stopped) return;
        if (error === null || error === undefined) {
          void this.watch(generation); // the server ended the watch normally: resume from the last version
        } else {
          this.retry(generation, error);
        }
      },
    );
  }

  private handleEvent(type: WatchEventType, object: KubeObject): void {
    if (type === 'ERROR') {
      const status = object as { code?: number; reason?: string; message?: string };
      // 410 Gone: our resourceVersion is too old; relist right away.
      this.generation++;
      this.watchHandle?.abort();
      const error = new KubeApiError(
        status.code ?? 0,
        status.reason ?? 'WatchError',
        status.message ?? 'watch error event',
      );
      if (status.code === 410) void this.relist();
      else this.retry(this.generation, error);
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
    this.hooks.onError?.(this.options.name, error);
    this.backoffMs = Math.min(30_000, this.backoffMs === 0 ? 1000 : this.backoffMs * 2);
    const code = error instanceof KubeApiError ? error.code : undefined;
    if (code === 404) {
      // The resource is not served (a CRD not installed yet): say so once, keep retrying quietly.
      if (this.backoffMs === 1000)
        this.log.info({ path: this.options.path }, 'resource not served by the API server; retrying until it is');
    } else {
      this.log.warn(
        { err: errorSummary(error), code, retryInMs: this.backoffMs },
        'list/watch failed; relisting after backoff',
      );
    }
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => void this.relist(), this.backoffMs);
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
