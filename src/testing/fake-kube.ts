/**
 * An in-memory Kubernetes API for reconcile unit tests: objects by collection path, resourceVersions,
 * list, watch, merge patch, TokenReviews and SubjectAccessReviews of non-resource URLs, and fault injection
 * (status codes on chosen requests, dropped watches).
 * It stands in for the API server only in unit tests; the e2e suite runs against a real one.
 */
import { asError, KubeApiError } from '../controller/errors.ts';
import {
  type CallOptions,
  type KubeClient,
  type ListMetadata,
  type ListQuery,
  type ListResult,
  type PatchType,
  type WatchEventType,
  type WatchHandle,
} from '../controller/kube-client.ts';

interface Stored {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface ReviewedUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
}

interface AccessReviewSpec {
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly nonResourceAttributes?: { readonly path?: string; readonly verb?: string };
}

interface Fault {
  verb: string;
  pathIncludes: string;
  code: number;
  remaining: number;
}

interface Hang {
  verb: string;
  pathIncludes: string;
  remaining: number;
  ignoresAbort: boolean;
}

interface Watcher {
  collection: string;
  onEvent: (type: WatchEventType, object: unknown) => void;
  onDone: (error: unknown) => void;
  open: boolean;
}

export class FakeKube implements KubeClient {
  private readonly namespacesMustExist: boolean;
  private rv = 1;
  private readonly objects = new Map<string, Stored>(); // full object path -> object
  private readonly watchers: Watcher[] = [];
  private readonly faults: Fault[] = [];
  private readonly hangs: Hang[] = [];
  private readonly expiries: { pathIncludes: string; remaining: number }[] = [];
  readonly requests: { verb: string; path: string }[] = [];
  /** The bearer tokens TokenReview authenticates, and the user each one is. */
  readonly tokens = new Map<string, ReviewedUser>();
  /** What SubjectAccessReview allows on non-resource URLs: `<user> <verb> <path>`, or `group:<name> <verb> <path>`. */
  readonly nonResourceGrants = new Set<string>();

  /**
   * With `namespacesMustExist`, a create in a namespace that has no Namespace object fails as the API server
   * fails it. Off by default: most tests put namespaced objects without their Namespace.
   */
  constructor(options: { readonly namespacesMustExist?: boolean } = {}) {
    this.namespacesMustExist = options.namespacesMustExist ?? false;
  }

  /** Makes the next `count` requests of `verb` whose path contains `pathIncludes` fail with `code`. */
  fail(verb: string, pathIncludes: string, code: number, count = 1): void {
    this.faults.push({ verb, pathIncludes, code, remaining: count });
  }

  /**
   * Makes the next `count` gets, creates or updates (`verb`) whose path contains `pathIncludes` hang: they never
   * answer. A call given a signal rejects when it aborts, as the real client's does, unless `ignoresAbort`: a
   * call stuck where no signal reaches (an exec credential plugin, a client bug).
   */
  hang(verb: 'get' | 'create' | 'update', pathIncludes: string, count = Infinity, ignoresAbort = false): void {
    this.hangs.push({ verb, pathIncludes, remaining: count, ignoresAbort });
  }

  /**
   * Answers the next `count` watches whose path contains `pathIncludes` as the API server answers a watch from a
   * compacted resourceVersion: the watch opens, then an ERROR event with a 410 Gone Status ends it.
   */
  expireWatches(pathIncludes: string, count = Infinity): void {
    this.expiries.push({ pathIncludes, remaining: count });
  }

  /** Ends every open watch with an error, as a dropped connection would. */
  dropWatches(error: unknown = new Error('connection reset')): void {
    for (const w of this.watchers.splice(0)) {
      w.open = false;
      w.onDone(error);
    }
  }

  /** Puts an object at collection path `collection` (e.g. /api/v1/namespaces/ns/pods), notifying watchers. */
  put(collection: string, object: Stored): Stored {
    const path = `${collection}/${object.metadata.name}`;
    const existed = this.objects.has(path);
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.rv);
    stored.metadata.uid ??= `uid-${object.metadata.name}`;
    this.objects.set(path, stored);
    this.notify(collection, existed ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  remove(collection: string, name: string): void {
    const path = `${collection}/${name}`;
    const stored = this.objects.get(path);
    if (!stored) return;
    this.objects.delete(path);
    this.notify(collection, 'DELETED', {
      ...stored,
      metadata: { ...stored.metadata, resourceVersion: String(++this.rv) },
    });
  }

  object(path: string): Stored | undefined {
    return this.objects.get(path);
  }

  /** Objects whose path starts with `prefix`, e.g. the Events of a namespace. */
  objectsUnder(prefix: string): Stored[] {
    return [...this.objects.entries()].filter(([p]) => p.startsWith(prefix)).map(([, o]) => o);
  }

  private notify(collection: string, type: WatchEventType, object: Stored): void {
    for (const w of this.watchers) {
      if (w.open && matches(collection, w.collection)) w.onEvent(type, structuredClone(object));
    }
  }

  private check(verb: string, path: string): void {
    this.requests.push({ verb, path });
    const fault = this.faults.find((f) => f.verb === verb && path.includes(f.pathIncludes) && f.remaining > 0);
    if (fault) {
      fault.remaining--;
      throw new KubeApiError(fault.code, 'Injected', `${verb} ${path}: injected ${fault.code}`);
    }
  }

  /** The never-settling answer of a request hang() holds, else undefined. */
  private held(verb: string, path: string, signal: AbortSignal | undefined): Promise<never> | undefined {
    const hang = this.hangs.find((h) => h.verb === verb && path.includes(h.pathIncludes) && h.remaining > 0);
    if (!hang) return undefined;
    hang.remaining--;
    this.requests.push({ verb, path });
    return new Promise<never>((_resolve, reject) => {
      if (hang.ignoresAbort || !signal) return;
      const abort = () =>
        reject(new KubeApiError(0, 'TransportError', `${verb} ${path}: aborted`, { cause: signal.reason }));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
    });
  }

  get<T>(path: string, options?: CallOptions): Promise<T> {
    const held = this.held('get', path, options?.signal);
    if (held) return held;
    try {
      this.check('get', path);
      const o = this.objects.get(path);
      if (!o) throw new KubeApiError(404, 'NotFound', `${path} not found`);
      return Promise.resolve(structuredClone(o) as T);
    } catch (e) {
      return rejected(e);
    }
  }

  list<T>(path: string): Promise<ListResult<T>> {
    try {
      this.check('list', path);
      const items = [...this.objects.entries()]
        .filter(([p]) => matches(p.slice(0, p.lastIndexOf('/')), path))
        .map(([, o]) => structuredClone(o) as T);
      return Promise.resolve({ items, metadata: { resourceVersion: String(this.rv) } });
    } catch (e) {
      return rejected(e);
    }
  }

  async listEach(path: string, _query: ListQuery, onItem: (item: unknown) => void): Promise<ListMetadata> {
    const page = await this.list(path);
    for (const item of page.items) onItem(item);
    return page.metadata;
  }

  create<T>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    const held = this.held('create', path, options?.signal);
    if (held) return held;
    try {
      this.check('create', path);
      const review = this.review(path, body);
      if (review !== undefined) return Promise.resolve(review as T);
      // The eviction subresource deletes the pod (this fake has no PodDisruptionBudgets).
      const eviction = /^(.*)\/eviction$/.exec(path);
      if (eviction) {
        const target = eviction[1] ?? '';
        if (!this.objects.has(target)) throw new KubeApiError(404, 'NotFound', `${target} not found`);
        this.remove(target.slice(0, target.lastIndexOf('/')), target.slice(target.lastIndexOf('/') + 1));
        return Promise.resolve({} as T);
      }
      const namespace = /\/namespaces\/([^/]+)\/[^/]+$/.exec(path)?.[1];
      if (this.namespacesMustExist && namespace !== undefined && !this.objects.has(`/api/v1/namespaces/${namespace}`))
        throw new KubeApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
          details: { kind: 'namespaces', name: namespace },
        });
      const o = body as Stored;
      if (this.objects.has(`${path}/${o.metadata.name}`)) throw new KubeApiError(409, 'AlreadyExists', 'exists');
      return Promise.resolve(this.put(path, o) as T);
    } catch (e) {
      return rejected(e);
    }
  }

  /** A TokenReview or SubjectAccessReview answered, as the API server answers them (never stored); else undefined. */
  private review(path: string, body: unknown): unknown {
    if (path === '/apis/authentication.k8s.io/v1/tokenreviews') {
      const user = this.tokens.get((body as { spec?: { token?: string } }).spec?.token ?? '');
      const status = user ? { authenticated: true, user } : { authenticated: false, error: 'invalid bearer token' };
      return { ...(body as object), status };
    }
    if (path === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
      const spec = (body as { spec?: AccessReviewSpec }).spec ?? {};
      const attributes = spec.nonResourceAttributes;
      const subjects = [spec.user ?? '', ...(spec.groups ?? []).map((g) => `group:${g}`)];
      const allowed =
        attributes !== undefined &&
        subjects.some((s) => this.nonResourceGrants.has(`${s} ${attributes.verb ?? ''} ${attributes.path ?? ''}`));
      return { ...(body as object), status: { allowed } };
    }
    return undefined;
  }

  replace<T>(path: string, body: unknown, options?: CallOptions): Promise<T> {
    const held = this.held('update', path, options?.signal);
    if (held) return held;
    try {
      this.check('update', path);
      const current = this.objects.get(path);
      const o = body as Stored;
      if (!current) throw new KubeApiError(404, 'NotFound', `${path} not found`);
      if (o.metadata.resourceVersion !== current.metadata.resourceVersion)
        throw new KubeApiError(409, 'Conflict', 'the object has been modified');
      return Promise.resolve(this.put(path.slice(0, path.lastIndexOf('/')), o) as T);
    } catch (e) {
      return rejected(e);
    }
  }

  patch(path: string, body: unknown, type: PatchType): Promise<void> {
    try {
      this.check('patch', path);
      if (type !== 'merge') throw new Error(`FakeKube supports merge patches only, got ${type}`);
      // Subresources: /scale patches spec.replicas of the parent, /status its status.
      const sub = /^(.*)\/(scale|status)$/.exec(path);
      if (sub && this.objects.has(sub[1] ?? '')) {
        const parent = sub[1] ?? '';
        const patch =
          sub[2] === 'scale'
            ? { spec: { replicas: (body as { spec?: { replicas?: number } }).spec?.replicas } }
            : { status: (body as { status?: unknown }).status };
        return this.patch(parent, patch, 'merge');
      }
      const current = this.objects.get(path);
      if (!current) throw new KubeApiError(404, 'NotFound', `${path} not found`);
      const patch = body as { metadata?: { uid?: string; resourceVersion?: string } };
      if (patch.metadata?.uid !== undefined && patch.metadata.uid !== current.metadata.uid)
        throw new KubeApiError(409, 'Conflict', 'uid precondition failed');
      if (
        patch.metadata?.resourceVersion !== undefined &&
        patch.metadata.resourceVersion !== current.metadata.resourceVersion
      ) {
        throw new KubeApiError(409, 'Conflict', 'the object has been modified');
      }
      const merged = mergePatch(current, body) as Stored;
      this.put(path.slice(0, path.lastIndexOf('/')), merged);
      return Promise.resolve();
    } catch (e) {
      return rejected(e);
    }
  }

  delete(path: string): Promise<void> {
    try {
      this.check('delete', path);
      this.remove(path.slice(0, path.lastIndexOf('/')), path.slice(path.lastIndexOf('/') + 1));
      return Promise.resolve();
    } catch (e) {
      return rejected(e);
    }
  }

  watch(path: string, _query: unknown, onEvent: Watcher['onEvent'], onDone: Watcher['onDone']): Promise<WatchHandle> {
    try {
      this.check('watch', path);
    } catch (e) {
      onDone(e);
      return Promise.resolve({ abort: () => undefined });
    }
    const w: Watcher = { collection: path, onEvent, onDone, open: true };
    this.watchers.push(w);
    const expiry = this.expiries.find((e) => path.includes(e.pathIncludes) && e.remaining > 0);
    if (expiry) {
      expiry.remaining--;
      // After the answer's headers, as the server sends it; a macrotask, so a client that rewatches at once
      // without a timer spins through the event loop rather than hanging it.
      setImmediate(() => {
        if (!w.open) return;
        onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
        const i = this.watchers.indexOf(w);
        if (i < 0) return; // the client aborted it
        // Then the server ends the answer.
        w.open = false;
        this.watchers.splice(i, 1);
        onDone(null);
      });
    }
    return Promise.resolve({
      abort: () => {
        w.open = false;
        const i = this.watchers.indexOf(w);
        if (i >= 0) this.watchers.splice(i, 1);
      },
    });
  }
}

/** A namespaced collection (/api/v1/namespaces/x/pods) belongs to the cluster-wide one (/api/v1/pods). */
function matches(collection: string, watched: string): boolean {
  if (collection === watched) return true;
  const m = /^(.*)\/namespaces\/[^/]+\/([^/]+)$/.exec(collection);
  return m !== null && `${m[1] ?? ''}/${m[2] ?? ''}` === watched;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) Reflect.deleteProperty(out, k);
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function rejected(e: unknown): Promise<never> {
  return Promise.reject(asError(e));
}
