/**
 * A small JSON client for the Kubernetes API on top of client-node's authentication and transport.
 * It returns plain JSON rather than client-node's model classes: the cache keeps only compact projections,
 * and skipping model deserialization matters at 20,000 pods. Every reconciler talks to this interface, so
 * unit tests can hand them an in-memory fake with fault injection.
 */
import { KubeConfig, RequestContext, HttpMethod, Watch } from '@kubernetes/client-node';
import { fetch } from 'undici';

export type PatchType = 'merge' | 'json' | 'apply';

export interface ListResult<T> {
  readonly items: T[];
  readonly metadata: { readonly resourceVersion?: string; readonly continue?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  abort(): void;
}

export interface KubeClient {
  get<T>(path: string): Promise<T>;
  list<T>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<ListResult<T>>;
  create<T>(path: string, body: unknown): Promise<T>;
  replace<T>(path: string, body: unknown): Promise<T>;
  patch<T>(path: string, body: unknown, type: PatchType, query?: Record<string, string>): Promise<T>;
  delete(path: string): Promise<void>;
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (type: WatchEventType, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
}

/** An API error with the fields worth logging: the HTTP code and the Status reason, not the whole body. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.reason = reason;
  }
}

export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.code === 409;
export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.code === 404;
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.code === 410;

const CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

const VERB: Partial<Record<string, string>> = {
  GET: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export interface KubeClientOptions {
  /** Per-request timeout (watches excepted). */
  readonly requestTimeoutMs?: number;
  /** A watch with no data (events or bookmarks) for this long is cut and reported as stalled. */
  readonly watchInactivityMs?: number;
  readonly userAgent?: string;
  /** Called once per request with its verb (get, list, watch, create, update, patch, delete), for metrics. */
  readonly onRequest?: (verb: string) => void;
}

export function createKubeClient(kc: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/$/, '');
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const userAgent = options.userAgent ?? 'aicost-operator';

  // client-node builds a new undici Agent (a connection pool with its own TLS context) on every call of
  // applySecurityAuthentication. Called per request, that made one pool per patch: at 10,000 pods, hundreds of
  // megabytes. Authentication is therefore applied once a minute: the headers (tokens, which rotate) are
  // refreshed then, and one connection pool is kept for ten minutes (rotated client certificates).
  let auth:
    | {
        headers: Record<string, string>;
        dispatcher: { close?: () => Promise<void> };
        headersAt: number;
        dispatcherAt: number;
      }
    | undefined;
  const authenticate = async (url: string, method: HttpMethod) => {
    const now = Date.now();
    if (!auth || now - auth.headersAt > 60_000) {
      const ctx = new RequestContext(url, method);
      await kc.applySecurityAuthentication(ctx);
      const fresh = ctx.getDispatcher() as { close?: () => Promise<void> };
      if (!auth || now - auth.dispatcherAt > 10 * 60_000) {
        void auth?.dispatcher.close?.().catch(() => undefined);
        auth = { headers: ctx.getHeaders(), dispatcher: fresh, headersAt: now, dispatcherAt: now };
      } else {
        void fresh.close?.().catch(() => undefined);
        auth = { ...auth, headers: ctx.getHeaders(), headersAt: now };
      }
    }
    return auth;
  };

  async function request<T>(
    method: HttpMethod,
    path: string,
    query?: Record<string, string | number | boolean | undefined>,
    body?: unknown,
    contentType = 'application/json',
    counted = false,
  ): Promise<T> {
    if (!counted) options.onRequest?.(VERB[method] ?? method.toLowerCase());
    const url = new URL(server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const { headers: authHeaders, dispatcher } = await authenticate(url.toString(), method);
    const headers: Record<string, string> = {
      ...authHeaders,
      accept: 'application/json',
      'user-agent': userAgent,
    };
    if (body !== undefined) headers['content-type'] = contentType;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        dispatcher: dispatcher as never,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (cause) {
      throw new KubeApiError(0, 'TransportError', `${method} ${path}: ${(cause as Error).message}`, { cause });
    }
    const text = await response.text();
    if (!response.ok) {
      let reason = response.statusText;
      let message = text.slice(0, 500);
      try {
        const status = JSON.parse(text) as { reason?: string; message?: string };
        reason = status.reason ?? reason;
        message = status.message ?? message;
      } catch {
        // not a Status object: keep the text
      }
      throw new KubeApiError(response.status, reason, `${method} ${path}: ${response.status} ${reason}: ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return {
    get: (path) => request(HttpMethod.GET, path),
    list: (path, query) => {
      options.onRequest?.('list');
      return request(HttpMethod.GET, path, query, undefined, undefined, true);
    },
    create: (path, body) => request(HttpMethod.POST, path, undefined, body),
    replace: (path, body) => request(HttpMethod.PUT, path, undefined, body),
    patch: (path, body, type, query) => request(HttpMethod.PATCH, path, query, body, CONTENT_TYPE[type]),
    delete: async (path) => {
      await request(HttpMethod.DELETE, path);
    },
    async watch(path, query, onEvent, onDone) {
      options.onRequest?.('watch');
      const watch = new Watch(kc);
      // client-node cuts a watch after this much inactivity (30 s by default, declared private). The API server
      // sends bookmarks about once a minute, so 30 s would cut healthy idle watches: stretch it.
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = options.watchInactivityMs ?? 5 * 60_000;
      const controller = await watch.watch(
        path,
        query,
        (type: string, object: unknown) => {
          onEvent(type as WatchEventType, object);
        },
        onDone,
      );
      return { abort: () => controller.abort() };
    },
  };
}
