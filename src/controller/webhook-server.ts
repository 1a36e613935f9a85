/**
 * The HTTPS server of the admission webhook. The certificate comes from a directory (tls.crt, tls.key) and is
 * reloaded when it is renewed (tls-files.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Logger } from 'pino';
import { loadPair, reloadRenewedCertificates } from './tls-files.ts';

export const WEBHOOK_PATH = '/mutate-v1-pod';
// The API server sends at most 3 MiB objects; a pod review is far smaller.
const MAX_BODY = 4 * 1024 * 1024;

export interface WebhookServer {
  readonly port: number;
  /** True once a certificate is loaded and the server listens. */
  readonly serving: boolean;
  close(): Promise<void>;
}

export interface WebhookServerOptions {
  bindAddress: string;
  port: number;
  certDir: string;
  log: Logger;
  handle: (path: string, body: unknown) => unknown;
  onLatency?: (seconds: number) => void;
  /** How often the certificate files are checked for a renewal. */
  reloadMs?: number;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const { log } = options;
  const pair = await loadPair(options.certDir).catch((error: unknown) => {
    throw new Error(`cannot read the webhook certificate from ${options.certDir}: ${(error as Error).message}`);
  });
  const server: Server = createServer({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' }, (req, res) => {
    answerReview(req, res, options);
  });
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
  log.info({ port, path: WEBHOOK_PATH }, 'serving the spot admission webhook');
  return {
    port,
    get serving() {
      return server.listening;
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

/** Reads one admission review (bounded in size), answers it with `handle`, and reports the latency. */
function answerReview(
  req: IncomingMessage,
  res: ServerResponse,
  options: Pick<WebhookServerOptions, 'handle' | 'onLatency'>,
): void {
  const startedNs = process.hrtime.bigint();
  const path = req.url?.split('?')[0] ?? '';
  if (req.method !== 'POST' || path !== WEBHOOK_PATH) {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.writableEnded) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('the body is not JSON\n');
      return;
    }
    const answer = JSON.stringify(options.handle(path, body));
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    options.onLatency?.(Number(process.hrtime.bigint() - startedNs) / 1e9);
  });
}
