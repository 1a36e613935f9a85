/**
 * How the operator reaches Prometheus: the base URL (never with user info, which config/ moves into `auth`),
 * the credentials (basic auth, a bearer token file, or AWS SigV4 for Amazon Managed Service for Prometheus),
 * the TLS files (a CA, and a client certificate for mTLS) and fixed headers (`X-Scope-OrgID` for the tenancy of
 * Mimir, Cortex or Thanos). Files are read through refreshedFile: a rotated token or certificate is picked up
 * without a restart.
 */
import type { Agent } from 'node:http';
import { keepAliveAgent } from '../controller/http-request.ts';
import { EMPTY_SHA256, encodePath, signV4, type Credentials } from '../ledger/sigv4.ts';
import { CREDENTIAL_TTL_MS, refreshedFile, type RefreshedFile } from './refreshed-file.ts';

export type PrometheusAuth =
  | { readonly kind: 'none' }
  /** From the URL's user info. */
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'basic-file'; readonly username: string; readonly passwordFile: string }
  | { readonly kind: 'bearer-file'; readonly tokenFile: string }
  /** Amazon Managed Service for Prometheus: every request signed for the service `aps` in `region`. */
  | { readonly kind: 'sigv4'; readonly region: string; readonly credentials: Credentials };

export interface PrometheusTls {
  /** PEM CA bundle that signed the server's certificate; undefined: the system's roots. */
  readonly caFile: string | undefined;
  /** PEM client certificate and its key, for a server that asks for one (mTLS); both or neither. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

export interface PrometheusSettings {
  /** The base URL, without user info. */
  readonly url: string;
  readonly timeoutMs: number;
  readonly auth: PrometheusAuth;
  readonly tls: PrometheusTls;
  /** Sent with every query, e.g. ['X-Scope-OrgID', 'tenant-a']. */
  readonly headers: readonly (readonly [string, string])[];
}

export const NO_TLS_FILES: PrometheusTls = { caFile: undefined, certFile: undefined, keyFile: undefined };

export interface PreparedRequest {
  readonly agent: Agent;
  readonly headers: Readonly<Record<string, string>>;
}

export interface PrometheusConnection {
  /** The connection pool and the headers for one GET of `url`; rejects when a credential file can't be read. */
  prepare(url: URL): Promise<PreparedRequest>;
}

export function prometheusConnection(
  settings: PrometheusSettings,
  nowMs: () => number = Date.now,
  ttlMs: number = CREDENTIAL_TTL_MS,
): PrometheusConnection {
  const file = (path: string) => refreshedFile(path, ttlMs, nowMs);
  const agent = agentSource(settings.url, settings.tls, file);
  const auth = authSource(settings.auth, file, nowMs);
  const fixed = Object.fromEntries(settings.headers.map(([name, value]) => [name.toLowerCase(), value]));
  return {
    async prepare(url) {
      const [pool, authHeaders] = await Promise.all([agent(), auth(url)]);
      return { agent: pool, headers: { ...fixed, ...authHeaders } };
    },
  };
}

type AuthHeaders = (url: URL) => Promise<Record<string, string>>;

function authSource(auth: PrometheusAuth, file: (path: string) => RefreshedFile, nowMs: () => number): AuthHeaders {
  const basic = (username: string, password: string) => ({
    authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
  });
  switch (auth.kind) {
    case 'none':
      return () => Promise.resolve({});
    case 'basic':
      return () => Promise.resolve(basic(auth.username, auth.password));
    case 'basic-file': {
      const password = file(auth.passwordFile);
      return async () => basic(auth.username, await secretText(password, auth.passwordFile));
    }
    case 'bearer-file': {
      const token = file(auth.tokenFile);
      return async () => ({ authorization: `Bearer ${await secretText(token, auth.tokenFile)}` });
    }
    case 'sigv4':
      return (url) => Promise.resolve(signAps(url, auth.region, auth.credentials, new Date(nowMs())));
  }
}

/** A password or token file's text, without the line end editors and `kubectl create secret` leave. */
async function secretText(file: RefreshedFile, path: string): Promise<string> {
  const text = (await file.read()).toString('utf8').trim();
  if (text === '') throw new Error(`${path} is empty`);
  return text;
}

/**
 * The SigV4 headers of a GET to Amazon Managed Service for Prometheus. Not S3, so the canonical path is the
 * request's path (already encoded once, as sent) encoded again; the query is signed as the pairs it encodes.
 */
export function signAps(url: URL, region: string, credentials: Credentials, now: Date): Record<string, string> {
  return signV4({
    method: 'GET',
    host: url.host,
    path: encodePath(url.pathname),
    query: [...url.searchParams],
    headers: {},
    payloadHash: EMPTY_SHA256,
    region,
    service: 'aps',
    credentials,
    now,
  });
}

/**
 * A pool of kept-alive connections. With TLS files, a new pool is made when one of them changes (a renewed
 * client certificate); the old pool's connections close as their requests finish.
 */
function agentSource(base: string, tls: PrometheusTls, file: (path: string) => RefreshedFile): () => Promise<Agent> {
  const files = { ca: tls.caFile, cert: tls.certFile, key: tls.keyFile };
  const readers = Object.entries(files).flatMap(([name, path]) => (path ? [[name, file(path)] as const] : []));
  if (readers.length === 0) {
    const pool = keepAliveAgent(base);
    return () => Promise.resolve(pool);
  }
  let current: { agent: Agent; pem: Record<string, Buffer> } | undefined;
  return async () => {
    const pem = Object.fromEntries(
      await Promise.all(readers.map(async ([name, f]) => [name, await f.read()] as const)),
    );
    const same = (name: string) => current?.pem[name]?.equals(pem[name] ?? Buffer.alloc(0)) === true;
    if (current && readers.every(([name]) => same(name))) return current.agent;
    if (current) retire(current.agent);
    current = { agent: keepAliveAgent(base, pem), pem };
    return current.agent;
  };
}

/** Closes a pool's idle connections now and its busy ones once their answer has been read. */
function retire(agent: Agent): void {
  agent.on('free', (socket: { destroy(): void }) => socket.destroy());
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/**
 * The URL without its user info, and the basic auth that user info stood for (percent-decoded, as a browser
 * sends it); `auth` unchanged when the URL has none.
 */
export function moveUserInfo(url: string, auth: PrometheusAuth): { url: string; auth: PrometheusAuth } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url, auth };
  const basic: PrometheusAuth = {
    kind: 'basic',
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, auth: basic };
}
