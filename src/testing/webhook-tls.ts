/**
 * The webhook's HTTPS server on localhost for tests and benches: a self-signed pair in a temporary directory,
 * the configuration's default limits (or a test's), and raw TLS clients that write requests byte by byte, the
 * way a stalled or hostile caller would.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { pino, type Logger } from 'pino';
import { parseConfig } from '../config/config.ts';
import {
  startWebhookServer,
  WEBHOOK_PATH,
  type Refusal,
  type WebhookLimits,
  type WebhookServer,
} from '../controller/webhook-server.ts';
import { generateSelfSigned } from '../webhook/self-signed.ts';

/** The limits `aicost run` has when no flag sets them. */
export function defaultWebhookLimits(): WebhookLimits {
  const webhook = parseConfig(['--webhook-port=9443', '--webhook-cert-dir=/certs'], {}, 'test').webhook;
  if (!webhook) throw new Error('the webhook flags above turn the webhook on');
  return webhook.limits;
}

/** A directory holding tls.crt and tls.key of a new self-signed certificate for 127.0.0.1. */
export function selfSignedDir(): { dir: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'aicost-webhook-'));
  const pair = generateSelfSigned(['127.0.0.1'], new Date());
  writeFileSync(join(dir, 'tls.crt'), pair.cert);
  writeFileSync(join(dir, 'tls.key'), pair.key);
  return { dir, cert: pair.cert };
}

export interface TestWebhook {
  readonly server: WebhookServer;
  /** The CA a client trusts: the self-signed certificate itself. */
  readonly cert: string;
  readonly dir: string;
  /** Every refusal the server reported, in order. */
  readonly refusals: Refusal[];
}

export async function serveWebhook(
  handle: (path: string, body: unknown) => unknown,
  options: { limits?: Partial<WebhookLimits>; reloadMs?: number; log?: Logger } = {},
): Promise<TestWebhook> {
  const { dir, cert } = selfSignedDir();
  const refusals: Refusal[] = [];
  const server = await startWebhookServer({
    bindAddress: '127.0.0.1',
    port: 0,
    certDir: dir,
    log: options.log ?? pino({ level: 'silent' }),
    limits: { ...defaultWebhookLimits(), ...options.limits },
    handle,
    onRefused: (reason) => refusals.push(reason),
    ...(options.reloadMs !== undefined && { reloadMs: options.reloadMs }),
  });
  return { server, cert, dir, refusals };
}

/** What a raw client saw: the answer's status (0 when none came), its body, and when the connection closed. */
export interface RawOutcome {
  readonly status: number;
  readonly body: string;
  /** Every answer's status, for several requests on one connection. */
  readonly statuses: readonly number[];
  readonly closedAtMs: number;
}

/** The status and body of the one HTTP/1.1 answer in `text` (chunked or not). */
function parseAnswer(text: string): { status: number; body: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return { status, body: '' };
  const head = text.slice(0, split).toLowerCase();
  let rest = text.slice(split + 4);
  if (!head.includes('transfer-encoding: chunked')) return { status, body: rest };
  let body = '';
  for (;;) {
    const end = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, end), 16);
    if (end < 0 || !(size > 0)) return { status, body };
    body += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
}

/** A TLS connection to the webhook that reports everything the server sends until it closes. */
export class RawClient {
  readonly socket: TLSSocket;
  readonly outcome: Promise<RawOutcome>;
  private readonly startedMs = performance.now();

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    this.outcome = new Promise((resolve) => {
      socket.on('close', () => {
        const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
        resolve({ ...parseAnswer(text), statuses, closedAtMs: performance.now() - this.startedMs });
      });
    });
    // A reset after the server cut the connection is an outcome, not a failure of the test.
    socket.on('error', () => undefined);
  }

  /** Connects and completes the handshake; rejects when the server drops the connection first. */
  static open(port: number, cert: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: cert });
      socket.once('secureConnect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before the TLS handshake completed')));
    });
  }

  /** Writes a POST's headers: with a Content-Length when given, else chunked. */
  writeHeaders(contentLength?: number): void {
    const length = contentLength === undefined ? 'Transfer-Encoding: chunked' : `Content-Length: ${contentLength}`;
    this.socket.write(
      `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${length}\r\n\r\n`,
    );
  }

  /** Writes body bytes; `chunked` frames them as one chunk of a chunked body. */
  writeBody(bytes: Buffer, chunked = false): boolean {
    if (this.socket.destroyed) return false;
    if (!chunked) return this.socket.write(bytes);
    this.socket.write(`${bytes.length.toString(16)}\r\n`);
    return this.socket.write(Buffer.concat([bytes, Buffer.from('\r\n')]));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** POSTs a whole review on a connection of its own and resolves with the answer. */
export async function postReview(port: number, cert: string, body: string): Promise<RawOutcome> {
  const client = await RawClient.open(port, cert);
  const bytes = Buffer.from(body);
  client.socket.write(
    `POST ${WEBHOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`,
  );
  client.socket.write(bytes);
  return client.outcome;
}
