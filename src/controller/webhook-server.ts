/**
 * The HTTPS server of the admission webhook. The certificate comes from a directory (tls.crt, tls.key) and is
 * reloaded when it is renewed (tls-files.ts).
 *
 * Its port is reachable by whatever the network lets through (the API server has no stable address to allow
 * alone), so what a caller can make it hold is bounded (WebhookLimits): connections, bytes of bodies being
 * read (webhook-body.ts), and time: a TLS handshake, the headers and the body must each arrive within the read
 * timeout, and an idle keep-alive connection is closed after the idle timeout. Every refusal is counted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { loadPair, reloadRenewedCertificates } from './tls-files.ts';
import { InFlightBytes, readBody, type BodyCaps, type Refusal } from './webhook-body.ts';

export type { Refusal } from './webhook-body.ts';

export const WEBHOOK_PATH = '/mutate-v1-pod';

/** What one caller, or all together, can make the server hold. */
export interface WebhookLimits {
  /** A larger body is refused with 413 (the API server's requests are at most 3 MiB). */
  readonly maxBodyBytes: number;
  /** Bytes of all bodies being read at once; a request that would pass it is refused with 503. */
  readonly maxInFlightBytes: number;
  /** The TLS handshake, then a request's headers and body, must arrive within this; else the connection is cut. */
  readonly readTimeoutMs: number;
  /** A keep-alive connection idle this long is closed. */
  readonly idleTimeoutMs: number;
  /** Connections over this are closed as they are accepted. */
  readonly maxConnections: number;
}

export interface WebhookServer {
  readonly port: number;
  /** True once a certificate is loaded and the server listens. */
  readonly serving: boolean;
  /** Bytes of bodies being read now. */
  readonly inFlightBytes: number;
  close(): Promise<void>;
}

export interface WebhookServerOptions {
  bindAddress: string;
  port: number;
  certDir: string;
  log: Logger;
  limits: WebhookLimits;
  handle: (path: string, body: unknown) => unknown;
  onLatency?: (seconds: number) => void;
  onRefused?: (reason: Refusal) => void;
  /** How often the certificate files are checked for a renewal. */
  reloadMs?: number;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { log, limits } = options;
  const pair = await loadPair(options.certDir).catch((error: unknown) => {
    throw new Error(`cannot read the webhook certificate from ${options.certDir}: ${(error as Error).message}`, {
      cause: error,
    });
  });
  const refused = options.onRefused ?? (() => undefined);
  const caps: BodyCaps = { maxBodyBytes: limits.maxBodyBytes, inFlight: new InFlightBytes(limits.maxInFlightBytes) };
  const server: Server = createServer(
    {
      cert: pair.cert,
      key: pair.key,
      minVersion: 'TLSv1.2',
      handshakeTimeout: limits.readTimeoutMs,
      headersTimeout: limits.readTimeoutMs,
      requestTimeout: limits.readTimeoutMs,
      keepAliveTimeout: limits.idleTimeoutMs,
      // Node checks the two timeouts above this often (30 s by default): a stalled request is cut within a
      // quarter of the read timeout after it.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.readTimeoutMs / 4))),
    },
    (req, res) => {
      answerReview(req, res, { ...options, caps, refused });
    },
  );
  server.maxConnections = limits.maxConnections;
  countRefusals(server, refused);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.bindAddress, () => {
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const timer = reloadRenewedCertificates(server, pair, {
    certDir: options.certDir,
    log,
    what: 'webhook',
    reloadMs: options.reloadMs,
  });
  log.info({ port, path: WEBHOOK_PATH, limits }, 'serving the spot admission webhook');
  return {
    port,
    get serving() {
      return server.listening;
    },
    get inFlightBytes() {
      return caps.inFlight.bytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

/** Connections dropped over the cap, TLS failures (handshake timeouts too) and timed-out or malformed requests. */
function countRefusals(server: Server, refused: (reason: Refusal) => void): void {
  server.on('drop', () => {
    refused('connections');
  });
  server.on('tlsClientError', () => {
    refused('tls');
  });
  // Replaces Node's own handler, which would answer 408 or 400 first: a caller that stalls or speaks
  // something else than HTTP is not waited for.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A handshake timeout comes here too, and was counted as a TLS failure already.
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') refused('read_timeout');
    else if (error.code !== 'ECONNRESET' && error.code !== 'ERR_TLS_HANDSHAKE_TIMEOUT') refused('bad_request');
    socket.destroy();
  });
}

/** Reads one admission review (under the caps), answers it with `handle`, and reports the latency. */
function answerReview(
  req: IncomingMessage,
  res: ServerResponse,
  options: Pick<WebhookServerOptions, 'handle' | 'onLatency' | 'log'> & {
    caps: BodyCaps;
    refused: (reason: Refusal) => void;
  },
): void {
  const startedNs = process.hrtime.bigint();
  const path = req.url?.split('?')[0] ?? '';
  if (req.method !== 'POST' || path !== WEBHOOK_PATH) {
    res.writeHead(404).end();
    return;
  }
  readBody(req, res, options.caps, options.refused, (raw) => {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('the body is not JSON\n');
      return;
    }
    let answer: string;
    try {
      answer = JSON.stringify(options.handle(path, body));
    } catch (error) {
      // The API server takes a 500 as a failed call: the webhook configuration's failurePolicy decides.
      options.log.error({ err: (error as Error).message }, 'the admission handler threw');
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    options.onLatency?.(Number(process.hrtime.bigint() - startedNs) / 1e9);
  });
}
