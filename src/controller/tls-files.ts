/**
 * A serving certificate from a directory (tls.crt, tls.key), as controller-runtime expects it: a mounted Secret
 * that cert-manager or the chart keeps current. The webhook and the secure /metrics server both use it: the files
 * are checked every few seconds and a changed pair is loaded without a restart; a pair that does not load keeps
 * the previous one.
 */
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:https';
import { join } from 'node:path';
import type { Logger } from 'pino';

const RELOAD_MS = 10_000;

export interface CertPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export async function loadPair(dir: string): Promise<CertPair> {
  // Contents, not modification times: a mounted Secret is updated through a symlink swap, and two
  // writes within a clock tick share a time.
  const [cert, key] = await Promise.all([readFile(join(dir, 'tls.crt')), readFile(join(dir, 'tls.key'))]);
  return { cert, key };
}

export interface ReloadOptions {
  readonly certDir: string;
  readonly log: Logger;
  /** What the certificate serves, for the log: "webhook", "metrics". */
  readonly what: string;
  /** How often the files are checked for a renewal. */
  readonly reloadMs?: number | undefined;
}

/** Checks the certificate files every reloadMs and gives the server a changed pair; returns the timer. */
export function reloadRenewedCertificates(server: Server, loaded: CertPair, options: ReloadOptions): NodeJS.Timeout {
  let pair = loaded;
  const timer = setInterval(() => {
    loadPair(options.certDir)
      .then((next) => {
        if (next.cert.equals(pair.cert) && next.key.equals(pair.key)) return;
        server.setSecureContext({ cert: next.cert, key: next.key });
        pair = next;
        options.log.info({ certDir: options.certDir }, `${options.what} certificate reloaded`);
      })
      .catch((error: unknown) => {
        options.log.warn(
          { err: (error as Error).message },
          `could not reload the ${options.what} certificate; keeping the current one`,
        );
      });
  }, options.reloadMs ?? RELOAD_MS);
  timer.unref();
  return timer;
}
