/**
 * /metrics on the metrics port; /healthz and /readyz on the health port (one server when the ports match and
 * metrics are plain). With `secure`, /metrics is served over HTTPS to callers the API server authenticates and
 * authorizes (metrics-auth.ts), while the probes stay plain HTTP for the kubelet and say nothing worth hiding.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MetricsAuthorizer } from './metrics-auth.ts';
import { loadPair, reloadRenewedCertificates, type CertPair } from './tls-files.ts';

/** A probe: healthy or not, with a line of detail for humans. */
export type Probe = () => { ready: boolean; detail: string };

export interface SecureMetricsOptions {
  /** tls.crt and tls.key, re-read when renewed; undefined: `selfSigned()` once at start. */
  readonly certDir: string | undefined;
  readonly selfSigned: () => CertPair;
  readonly authorize: MetricsAuthorizer;
  readonly log: Logger;
}

export interface HttpServerOptions {
  readonly bindAddress: string;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly registry: Registry;
  readonly healthy: Probe;
  readonly ready: Probe;
  readonly secure?: SecureMetricsOptions | undefined;
}

export interface HttpServers {
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly close: () => Promise<void>;
}

// A scrape or a probe is one small GET: a client that takes longer than this to send it is cut off.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const SERVER_LIMITS = { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS };

const UNAUTHORIZED: Record<number, string> = {
  401: 'unauthorized: send a bearer token the API server accepts\n',
  403: 'forbidden: this user may not get /metrics\n',
  429: 'too many token reviews under way; retry\n',
  503: 'the token could not be reviewed; retry\n',
};

function serveMetrics(registry: Registry, res: ServerResponse): void {
  registry
    .metrics()
    .then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    })
    .catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
}

/** Serves /metrics only once the caller's token is reviewed and allowed. */
function serveSecureMetrics(options: HttpServerOptions, secure: SecureMetricsOptions, req: IncomingMessage) {
  return (res: ServerResponse) => {
    secure
      .authorize(req.headers.authorization)
      .then((decision) => {
        if (decision.code === 200) {
          serveMetrics(options.registry, res);
          return;
        }
        secure.log.debug({ code: decision.code, user: decision.user }, '/metrics refused');
        const headers: Record<string, string> = { 'content-type': 'text/plain' };
        if (decision.code === 401) headers['www-authenticate'] = 'Bearer';
        if (decision.code === 429 || decision.code === 503) headers['retry-after'] = '1';
        res.writeHead(decision.code, headers).end(UNAUTHORIZED[decision.code]);
      })
      .catch((error: unknown) => {
        res.writeHead(500).end();
        secure.log.warn({ err: String(error) }, '/metrics authorization failed');
      });
  };
}

function handler(options: HttpServerOptions, serve: { metrics: boolean; health: boolean }) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url?.split('?')[0];
    if (serve.metrics && url === '/metrics') {
      if (options.secure) serveSecureMetrics(options, options.secure, req)(res);
      else serveMetrics(options.registry, res);
      return;
    }
    if (serve.health && (url === '/healthz' || url === '/readyz')) {
      const result = url === '/healthz' ? options.healthy() : options.ready();
      res.writeHead(result.ready ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(`${result.ready ? 'ok' : 'not ready'}: ${result.detail}\n`);
      return;
    }
    res.writeHead(404);
    res.end();
  };
}

function listen(server: Server, port: number, bindAddress: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bindAddress, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeAll(servers: readonly Server[], timers: readonly NodeJS.Timeout[]): Promise<void> {
  for (const timer of timers) clearInterval(timer);
  return Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => {
            resolve();
          });
          s.closeIdleConnections();
        }),
    ),
  ).then(() => undefined);
}

/** The HTTPS server of secure /metrics, with its certificate (reloaded when it comes from a directory). */
async function secureMetricsServer(options: HttpServerOptions, secure: SecureMetricsOptions) {
  const pair = secure.certDir === undefined ? secure.selfSigned() : await loadPair(secure.certDir);
  const server = createHttpsServer(
    { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2', ...SERVER_LIMITS },
    handler(options, { metrics: true, health: false }),
  );
  const timers =
    secure.certDir === undefined
      ? []
      : [reloadRenewedCertificates(server, pair, { certDir: secure.certDir, log: secure.log, what: 'metrics' })];
  return { server, timers };
}

export async function startHttpServers(options: HttpServerOptions): Promise<HttpServers> {
  const { bindAddress } = options;
  if (options.metricsPort === options.healthPort && options.metricsPort !== 0) {
    if (options.secure) throw new Error('secure /metrics needs a port of its own: the probes stay plain HTTP');
    const server = createHttpServer(SERVER_LIMITS, handler(options, { metrics: true, health: true }));
    const port = await listen(server, options.metricsPort, bindAddress);
    return { metricsPort: port, healthPort: port, close: () => closeAll([server], []) };
  }
  const { server: metrics, timers } = options.secure
    ? await secureMetricsServer(options, options.secure)
    : { server: createHttpServer(SERVER_LIMITS, handler(options, { metrics: true, health: false })), timers: [] };
  const health = createHttpServer(SERVER_LIMITS, handler(options, { metrics: false, health: true }));
  const [metricsPort, healthPort] = await Promise.all([
    listen(metrics, options.metricsPort, bindAddress),
    listen(health, options.healthPort, bindAddress),
  ]);
  return { metricsPort, healthPort, close: () => closeAll([metrics, health], timers) };
}
