/**
 * A small JSON client for the Kubernetes API on Node's http(s) modules and the connection's credentials.
 * It returns plain JSON rather than client-node's model classes: the cache keeps only compact projections,
 * and skipping model deserialization matters at 20,000 pods. Every reconciler talks to this interface, so
 * unit tests can hand them an in-memory fake with fault injection.
 */
import type { IncomingMessage } from 'node:http';
import { discard, isOk, readText, send } from './http-request.ts';
import { streamJsonArray } from './json-stream.ts';
import { fromClientNode, type ClientNodeConfig, type KubeConnection } from './kube-connection.ts';
import { KubeApiError, WatchStalledError, type StatusDetails } from './errors.ts';

export type PatchType = 'merge' | 'json' | 'apply';

export interface ListMetadata {
  readonly resourceVersion?: string;
  readonly continue?: string;
}

export interface ListResult<T> {
  readonly items: T[];
  readonly metadata: ListMetadata;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  abort(): void;
}

export type ListQuery = Record<string, string | number | boolean | undefined>;

/** What a caller may add to one call of the client. */
export interface CallOptions {
  /**
   * Cuts the call off before the client's own timeout: a caller with a deadline of its own (the Lease's renew
   * deadline) must not wait for a hung call beyond it.
   */
  readonly signal?: AbortSignal | undefined;
}

export interface KubeClient {
  get<T>(path: string, options?: CallOptions): Promise<T>;
  list<T>(path: string, query?: ListQuery): Promise<ListResult<T>>;
  /**
   * One page of a list, item by item as it arrives: the page is never held whole (the reflector projects
   * each item and drops it). Returns the page's metadata (resourceVersion, continue).
   */
  listEach(path: string, query: ListQuery, onItem: (item: unknown) => void): Promise<ListMetadata>;
  create<T>(path: string, body: unknown, options?: CallOptions): Promise<T>;
  replace<T>(path: string, body: unknown, options?: CallOptions): Promise<T>;
  /** The patched object is not returned: no caller needs it, and its body is discarded unread. */
  patch(path: string, body: unknown, type: PatchType, query?: Record<string, string>): Promise<void>;
  delete(path: string): Promise<void>;
  watch(
    path: string,
    query: ListQuery,
    onEvent: (type: WatchEventType, object: unknown) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
}

const CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const VERB: Partial<Record<string, string>> = {
  GET: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** The error for a refused request: the code, and the reason and message of the API server's Status. */
function statusError(what: string, response: IncomingMessage, text: string): KubeApiError {
  const code = response.statusCode ?? 0;
  let reason = response.statusMessage ?? '';
  let message = text.slice(0, 500);
  let details: StatusDetails = {};
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string; details?: StatusDetails };
    reason = status.reason ?? reason;
    message = status.message ?? message;
    details = status.details ?? {};
  } catch {
    // not a Status object: keep the text
  }
  return new KubeApiError(code, reason, `${what}: ${String(code)} ${reason}: ${message}`, { details });
}

export interface KubeClientOptions {
  /** Per-request timeout (watches excepted). */
  readonly requestTimeoutMs?: number;
  /** A watch with no data (events or bookmarks) for this long is cut and reported as stalled. */
  readonly watchInactivityMs?: number;
  readonly userAgent?: string;
  /** Called once per request with its verb (get, list, watch, create, update, patch, delete), for metrics. */
  readonly onRequest?: (verb: string) => void;
}

/** What every request of one client needs: the connection and the options with their defaults. */
interface ClientContext {
  readonly connection: KubeConnection;
  readonly timeoutMs: number;
  readonly watchInactivityMs: number;
  readonly userAgent: string;
  readonly onRequest: ((verb: string) => void) | undefined;
}

/** How a successful answer is read: parsed whole, streamed item by item, or discarded. */
type Read =
  | { readonly mode: 'json' }
  | { readonly mode: 'items'; readonly onItem: (item: unknown) => void }
  | { readonly mode: 'discard' };

/** One request's parts besides its method and path. */
interface RequestParts extends CallOptions {
  readonly query?: ListQuery | undefined;
  readonly body?: unknown;
  readonly contentType?: string;
  /** The verb counted by onRequest; by default the method's. */
  readonly verb?: string;
  readonly read?: Read;
}

export function createKubeClient(
  source: KubeConnection | ClientNodeConfig,
  options: KubeClientOptions = {},
): KubeClient {
  const ctx: ClientContext = {
    connection: 'applyToHTTPSOptions' in source ? fromClientNode(source) : source,
    timeoutMs: options.requestTimeoutMs ?? 30_000,
    watchInactivityMs: options.watchInactivityMs ?? 5 * 60_000,
    userAgent: options.userAgent ?? 'aicost-operator',
    onRequest: options.onRequest,
  };
  return {
    get: (path, options) => request(ctx, 'GET', path, { signal: options?.signal }),
    list: (path, query) => request(ctx, 'GET', path, { query, verb: 'list' }),
    listEach: async (path, query, onItem) => {
      const read: Read = { mode: 'items', onItem };
      const page = await request<{ metadata?: ListMetadata }>(ctx, 'GET', path, { query, verb: 'list', read });
      return page.metadata ?? {};
    },
    create: (path, body, options) => request(ctx, 'POST', path, { body, signal: options?.signal }),
    replace: (path, body, options) => request(ctx, 'PUT', path, { body, signal: options?.signal }),
    patch: (path, body, type, query) =>
      request(ctx, 'PATCH', path, { query, body, contentType: CONTENT_TYPE[type], read: { mode: 'discard' } }),
    delete: async (path) => {
      await request(ctx, 'DELETE', path);
    },
    watch: (path, query, onEvent, onDone) => startWatch(ctx, path, query, onEvent, onDone),
  };
}

async function request<T>(ctx: ClientContext, method: Method, path: string, parts: RequestParts = {}): Promise<T> {
  const { query, body, read = { mode: 'json' } } = parts;
  ctx.onRequest?.(parts.verb ?? VERB[method] ?? method.toLowerCase());
  const url = new URL(ctx.connection.server + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const { headers: authHeaders, agent } = await ctx.connection.credentials();
  const headers: Record<string, string> = {
    ...authHeaders,
    accept: 'application/json',
    'user-agent': ctx.userAgent,
  };
  if (body !== undefined) headers['content-type'] = parts.contentType ?? 'application/json';
  // The client's timeout holds for every request; a caller's signal can only end it sooner.
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  const signal = parts.signal ? AbortSignal.any([timeout, parts.signal]) : timeout;
  const transportError = (cause: unknown) =>
    new KubeApiError(0, 'TransportError', `${method} ${path}: ${(cause as Error).message}`, { cause });
  let response: IncomingMessage;
  let text: string;
  try {
    signal.throwIfAborted(); // the caller's deadline may have passed while the credentials were read
    response = await send(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      agent,
      signal,
    });
    if (isOk(response) && read.mode === 'discard') {
      await discard(response);
      return undefined as T;
    }
    if (isOk(response) && read.mode === 'items') {
      return (await streamJsonArray(response, ['items'], read.onItem)) as T;
    }
    text = await readText(response);
  } catch (cause) {
    throw transportError(cause);
  }
  if (!isOk(response)) throw statusError(`${method} ${path}`, response, text);
  try {
    return (text ? JSON.parse(text) : undefined) as T;
  } catch (cause) {
    throw transportError(cause);
  }
}

/** Opens a watch and reads it in the background; its end is reported once through onDone. */
async function startWatch(
  ctx: ClientContext,
  path: string,
  query: ListQuery,
  onEvent: (type: WatchEventType, object: unknown) => void,
  onDone: (error: unknown) => void,
): Promise<WatchHandle> {
  ctx.onRequest?.('watch');
  const url = new URL(ctx.connection.server + path);
  url.searchParams.set('watch', 'true');
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const controller = new AbortController();
  let state: 'open' | 'aborted' | 'done' = 'open';
  let idle: NodeJS.Timeout | undefined;
  // Reports the end once: normal (null), an error, or a stall; never after abort().
  const finish = (error: unknown) => {
    if (state !== 'open') return;
    state = 'done';
    clearTimeout(idle);
    onDone(error);
  };
  // The API server sends bookmarks about once a minute: a watch silent for longer than this is stalled.
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      const error = new WatchStalledError(`watch ${path}: no data for ${String(ctx.watchInactivityMs / 1000)} s`);
      finish(error);
      controller.abort(error);
    }, ctx.watchInactivityMs);
  };
  void (async () => {
    try {
      const { headers: authHeaders, agent } = await ctx.connection.credentials();
      arm();
      const response = await send(url, {
        headers: { ...authHeaders, accept: 'application/json', 'user-agent': ctx.userAgent },
        agent,
        signal: controller.signal,
      });
      if (!isOk(response)) throw statusError(`watch ${path}`, response, await readText(response));
      await readWatchEvents(response, onEvent, arm);
      finish(null);
    } catch (error) {
      finish(error);
    }
  })();
  return Promise.resolve({
    abort: () => {
      if (state === 'open') state = 'aborted';
      clearTimeout(idle);
      controller.abort();
    },
  });
}

/** Reads a watch's answer, one JSON event per line (a line may span chunks); onChunk is told of every chunk. */
async function readWatchEvents(
  response: IncomingMessage,
  onEvent: (type: WatchEventType, object: unknown) => void,
  onChunk: () => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of response) {
    onChunk();
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) {
        const event = JSON.parse(line) as { type: WatchEventType; object: unknown };
        onEvent(event.type, event.object);
      }
      newline = buffered.indexOf('\n');
    }
  }
}
