/**
 * Where the API server is and how to authenticate to it, without loading client-node for the common cases.
 * Importing @kubernetes/client-node evaluates its whole generated API (hundreds of modules): about 80 MB of
 * resident memory and 25 MB of heap before any work, measured with process.memoryUsage(). The operator needs
 * none of it in a cluster (a service account token and CA) nor with a kubeconfig holding a token or a client
 * certificate, which covers kind, the local test cluster and most CI. Anything else in a kubeconfig (exec
 * plugins such as aws eks get-token, auth providers, OIDC) goes through client-node, loaded only then.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { Agent as HttpAgent } from 'node:http';
import type { AgentOptions } from 'node:https';
import { parse } from 'yaml';
import { keepAliveAgent } from './http-request.ts';

export interface Credentials {
  readonly headers: Readonly<Record<string, string>>;
  /** The connection pool, with the server's TLS settings (CA, client certificate). */
  readonly agent: HttpAgent;
}

export interface KubeConnection {
  readonly server: string;
  /** Headers and connection pool for the next request; rotated tokens and certificates are picked up. */
  credentials(): Promise<Credentials>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const REFRESH_MS = 60_000;

/** The duck type of client-node's KubeConfig that the fallback uses. */
export interface ClientNodeConfig {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(options: never): Promise<void>;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: {
    name: string;
    cluster?: {
      server?: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
    };
  }[];
  users?: {
    name: string;
    user?: {
      token?: string;
      tokenFile?: string;
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
      username?: string;
      password?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }[];
}

/** A token re-read from its file at most once a minute (projected service account tokens rotate). */
function tokenSource(read: () => Promise<string>): () => Promise<string> {
  let cached: { token: string; atMs: number } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.atMs > REFRESH_MS) cached = { token: (await read()).trim(), atMs: Date.now() };
    return cached.token;
  };
}

function inCluster(env: NodeJS.ProcessEnv, saDir: string): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const agent = keepAliveAgent(server, { ca: readFileSync(join(saDir, 'ca.crt')) });
  const token = tokenSource(() => readFile(join(saDir, 'token'), 'utf8'));
  return {
    server,
    credentials: async () => ({ headers: { authorization: `Bearer ${await token()}` }, agent }),
  };
}

function fromKubeconfig(path: string): KubeConnection {
  const file = (parse(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  const contextName = file['current-context'];
  const context = file.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig ${path}: no current context`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig ${path}: the current context's cluster has no server`);
  const user = file.users?.find((u) => u.name === context.user)?.user ?? {};
  const server = cluster.server.replace(/\/$/, '');
  if (user.exec !== undefined || user['auth-provider'] !== undefined) return viaClientNode(path, server);
  const resolvePath = (p: string) => (isAbsolute(p) ? p : join(dirname(path), p));
  const data = (inline: string | undefined, file: string | undefined): Buffer | undefined =>
    inline !== undefined
      ? Buffer.from(inline, 'base64')
      : file !== undefined
        ? readFileSync(resolvePath(file))
        : undefined;
  const agent = keepAliveAgent(server, {
    ca: data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: data(user['client-certificate-data'], user['client-certificate']),
    key: data(user['client-key-data'], user['client-key']),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
  });
  const tokenFile = user.tokenFile;
  const token = user.token
    ? () => Promise.resolve(user.token ?? '')
    : tokenFile
      ? tokenSource(() => readFile(resolvePath(tokenFile), 'utf8'))
      : undefined;
  const basic =
    user.username !== undefined
      ? `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`
      : undefined;
  return {
    server,
    credentials: async () => ({
      headers: token ? { authorization: `Bearer ${await token()}` } : basic ? { authorization: basic } : {},
      agent,
    }),
  };
}

/** The fallback: client-node's authentication, loaded on first use, applied once a minute. */
function viaClientNode(path: string, server: string): KubeConnection {
  let kc: Promise<ClientNodeConfig> | undefined;
  const load = async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const config = new KubeConfig();
    config.loadFromFile(path);
    return config;
  };
  let connection: KubeConnection | undefined;
  return {
    server,
    credentials: async () => {
      kc ??= load();
      connection ??= fromClientNode(await kc);
      return connection.credentials();
    },
  };
}

/**
 * A connection from a loaded client-node KubeConfig (exec plugins, auth providers; tests and scripts build
 * one too). client-node fills the request options (headers, CA, client certificate); its headers are asked
 * for once a minute (exec plugins cache their tokens), and the pool is rebuilt every ten minutes so a
 * rotated client certificate is picked up.
 */
export function fromClientNode(kc: ClientNodeConfig): KubeConnection {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/$/, '');
  let auth: { headers: Record<string, string>; agent: HttpAgent; headersAtMs: number; poolAtMs: number } | undefined;
  return {
    server,
    credentials: async () => {
      const nowMs = Date.now();
      if (!auth || nowMs - auth.headersAtMs > REFRESH_MS) {
        const options: AgentOptions & { headers?: Record<string, string>; auth?: string } = {};
        await kc.applyToHTTPSOptions(options as never);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = v;
        if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
        if (!auth || nowMs - auth.poolAtMs > 10 * REFRESH_MS) {
          auth?.agent.destroy();
          const { ca, cert, key, rejectUnauthorized, servername } = options;
          const tls: AgentOptions = { ca, cert, key, ...(servername ? { servername } : {}) };
          if (rejectUnauthorized !== undefined) tls.rejectUnauthorized = rejectUnauthorized;
          auth = { headers, agent: keepAliveAgent(server, tls), headersAtMs: nowMs, poolAtMs: nowMs };
        } else {
          auth = { ...auth, headers, headersAtMs: nowMs };
        }
      }
      return { headers: auth.headers, agent: auth.agent };
    },
  };
}

/**
 * As kubectl and client-node choose: $KUBECONFIG (its first file), else the in-cluster service account when
 * running in a pod, else ~/.kube/config.
 */
export function loadDefaultConnection(env: NodeJS.ProcessEnv, saDir = SA_DIR): KubeConnection {
  const first = env.KUBECONFIG?.split(delimiter).find(Boolean);
  if (first) return fromKubeconfig(first);
  if (env.KUBERNETES_SERVICE_HOST) return inCluster(env, saDir);
  return fromKubeconfig(join(homedir(), '.kube', 'config'));
}

export function connectionFromFile(path: string): KubeConnection {
  return fromKubeconfig(path);
}
