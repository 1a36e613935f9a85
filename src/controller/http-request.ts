/**
 * HTTP(S) requests on Node's own http and https modules. The operator used undici's fetch; loading that
 * package costs about 29 MB of resident memory (measured with process.memoryUsage() after importing it),
 * node:https about 9 MB, and a response is already an async iterable of byte chunks for the streaming parser.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions } from 'node:https';

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** A connection pool (with the TLS settings of the server); the module's global agent when absent. */
  readonly agent?: Agent | undefined;
  /** Aborts the request and the reading of its response. */
  readonly signal?: AbortSignal;
}

/**
 * Sends a request; resolves with the response once its headers arrived (the body is read by the caller).
 * A kept-alive connection can be closed by the server just as a request goes out on it; such a request was
 * never read, so it is sent once more (the reset connection has left the pool), as Node's documentation
 * advises, except a create (POST), which is not idempotent.
 */
export async function send(url: URL, options: RequestOptions = {}): Promise<IncomingMessage> {
  try {
    return await sendOnce(url, options);
  } catch (error) {
    if (!(error instanceof StaleConnectionError)) throw error;
    if (options.method === 'POST') throw error.original;
    return sendOnce(url, options);
  }
}

/** A reset on a reused connection before any answer. */
class StaleConnectionError extends Error {
  override readonly name = 'StaleConnectionError';
  readonly original: Error;
  constructor(original: Error) {
    super(original.message, { cause: original });
    this.original = original;
  }
}

function sendOnce(url: URL, options: RequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: options.method ?? 'GET',
      headers,
      ...(options.agent ? { agent: options.agent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    request.once('response', resolve);
    request.once('error', (error: NodeJS.ErrnoException) => {
      const stale = request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      reject(stale ? new StaleConnectionError(error) : error);
    });
    request.end(options.body);
  });
}

/** The whole body (answers known to fit in memory: errors, single objects). */
export async function readBytes(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The whole body as text (answers known to be small: errors, single objects). */
export async function readText(response: IncomingMessage): Promise<string> {
  return (await readBytes(response)).toString('utf8');
}

/** Reads the body to its end, keeping nothing, so the connection goes back to the pool. */
export async function discard(response: IncomingMessage): Promise<void> {
  for await (const _chunk of response);
}

/** A pool of kept-alive connections to `server` (http or https, with its TLS settings). */
export function keepAliveAgent(server: string, tls: AgentOptions = {}): Agent {
  return server.startsWith('https:') ? new HttpsAgent({ ...tls, keepAlive: true }) : new Agent({ keepAlive: true });
}

export const isOk = (response: IncomingMessage): boolean =>
  (response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300;
