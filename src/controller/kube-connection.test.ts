import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createKubeClient, type WatchEventType } from './kube-client.ts';
import { isNamespaceNotFound, isNotFound, WatchStalledError } from './errors.ts';
import { connectionFromFile, loadDefaultConnection, type KubeConnection } from './kube-connection.ts';
import { generateSelfSigned } from '../webhook/self-signed.ts';

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'aicost-kc-'));
  const path = join(dir, 'config');
  writeFileSync(join(dir, 'token.txt'), 'file-token\n');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'here',
      contexts: [
        { name: 'other', context: { cluster: 'c2', user: 'u2' } },
        { name: 'here', context: { cluster: 'c1', user: 'u1' } },
      ],
      clusters: [
        { name: 'c1', cluster: { server: 'https://10.0.0.1:6443/', ...cluster } },
        { name: 'c2', cluster: { server: 'https://wrong' } },
      ],
      users: [
        { name: 'u1', user },
        { name: 'u2', user: { token: 'wrong' } },
      ],
    }),
  );
  return path;
}

describe('kube connection from a kubeconfig', () => {
  it('uses the current context: server, bearer token', async () => {
    const c = connectionFromFile(kubeconfig({ token: 'abc' }));
    expect(c.server).toBe('https://10.0.0.1:6443');
    expect((await c.credentials()).headers).toEqual({ authorization: 'Bearer abc' });
  });

  it('reads tokenFile relative to the kubeconfig, and basic auth', async () => {
    expect((await connectionFromFile(kubeconfig({ tokenFile: 'token.txt' })).credentials()).headers).toEqual({
      authorization: 'Bearer file-token',
    });
    expect((await connectionFromFile(kubeconfig({ username: 'a', password: 'b' })).credentials()).headers).toEqual({
      authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
    });
  });

  it('client certificates add no header (TLS carries them)', async () => {
    const c = connectionFromFile(
      kubeconfig(
        { 'client-certificate-data': 'Y2VydA==', 'client-key-data': 'a2V5' },
        { 'insecure-skip-tls-verify': true },
      ),
    );
    expect((await c.credentials()).headers).toEqual({});
  });

  it('says what is wrong with a kubeconfig without a usable context', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicost-kc-'));
    writeFileSync(join(dir, 'config'), stringify({ 'current-context': 'nope', contexts: [] }));
    expect(() => connectionFromFile(join(dir, 'config'))).toThrow(/no current context/);
  });

  it('in a pod: the service host and port, the mounted CA, and the token re-read as it rotates', async () => {
    const sa = mkdtempSync(join(tmpdir(), 'aicost-sa-'));
    writeFileSync(join(sa, 'ca.crt'), generateSelfSigned(['10.96.0.1'], new Date()).cert);
    writeFileSync(join(sa, 'token'), 'token-1\n');
    const c = loadDefaultConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
    expect(c.server).toBe('https://[fd00::1]:443');
    expect((await c.credentials()).headers).toEqual({ authorization: 'Bearer token-1' });
  });

  it('KUBECONFIG wins over the in-cluster service account; its first file is used', () => {
    const path = kubeconfig({ token: 'abc' });
    const c = loadDefaultConnection({ KUBECONFIG: `${path}:/nonexistent`, KUBERNETES_SERVICE_HOST: '10.96.0.1' });
    expect(c.server).toBe('https://10.0.0.1:6443');
  });
});

describe('the client against a local API server', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<KubeConnection> {
    server = createServer(handler);
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const agent = new Agent({ keepAlive: true });
    return {
      server: `http://127.0.0.1:${String(port)}`,
      credentials: () => Promise.resolve({ headers: { authorization: 'Bearer t' }, agent }),
    };
  }

  it('delivers events split across chunks, then reports a normal end', async () => {
    let seenUrl = '';
    let seenAuth = '';
    const conn = await serve((req, res) => {
      seenUrl = req.url ?? '';
      seenAuth = req.headers.authorization ?? '';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI');
      setTimeout(() => res.end('FIED","object":{"metadata":{"name":"b"}}}\n'), 20);
    });
    const events: [WatchEventType, unknown][] = [];
    const done = await new Promise<unknown>((resolve) => {
      void createKubeClient(conn).watch(
        '/api/v1/pods',
        { resourceVersion: '5', fieldSelector: undefined },
        (t, o) => events.push([t, o]),
        resolve,
      );
    });
    expect(done).toBeNull();
    expect(events).toEqual([
      ['ADDED', { metadata: { name: 'a' } }],
      ['MODIFIED', { metadata: { name: 'b' } }],
    ]);
    expect(seenUrl).toBe('/api/v1/pods?watch=true&resourceVersion=5');
    expect(seenAuth).toBe('Bearer t');
  });

  it('reports an API error with its code', async () => {
    const conn = await serve((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'no' }));
    });
    const done = await new Promise<unknown>((resolve) => {
      void createKubeClient(conn).watch('/api/v1/pods', {}, () => undefined, resolve);
    });
    expect(done).toMatchObject({ code: 403, reason: 'Forbidden' });
  });

  it('tells a create refused for its missing namespace from a missing object', async () => {
    // The API server's answers, as it words them: a get of an absent Lease, a create in an absent namespace.
    const conn = await serve((req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      const details =
        req.method === 'GET'
          ? { name: 'lease', group: 'coordination.k8s.io', kind: 'leases' }
          : { name: 'gone', kind: 'namespaces' };
      res.end(
        JSON.stringify({
          kind: 'Status',
          reason: 'NotFound',
          message: `${details.kind} not found`,
          details,
          code: 404,
        }),
      );
    });
    const client = createKubeClient(conn);
    const path = '/apis/coordination.k8s.io/v1/namespaces/gone/leases';
    const get = await client.get(`${path}/lease`).catch((e: unknown) => e);
    const create = await client.create(path, {}).catch((e: unknown) => e);
    expect([isNotFound(get), isNamespaceNotFound(get, 'gone')]).toEqual([true, false]);
    expect([isNotFound(create), isNamespaceNotFound(create, 'gone')]).toEqual([true, true]);
    expect(isNamespaceNotFound(create, 'other')).toBe(false);
  });

  it("ends a call that hangs at the caller's signal, long before the client's own timeout", async () => {
    let held = 0;
    const conn = await serve(() => held++); // reads the request, never answers
    const client = createKubeClient(conn, { requestTimeoutMs: 30_000 });
    const startedMs = Date.now();
    const put = await client
      .replace('/apis/coordination.k8s.io/v1/namespaces/ns/leases/l', {}, { signal: AbortSignal.timeout(50) })
      .catch((e: unknown) => e);
    expect(put).toMatchObject({ code: 0, reason: 'TransportError' });
    expect(Date.now() - startedMs).toBeLessThan(5000);
    expect(held).toBe(1);
  });

  it('cuts a stalled watch and says so; an aborted watch reports nothing', async () => {
    const conn = await serve((_req, res) => {
      res.writeHead(200);
      res.write('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n');
    });
    const client = createKubeClient(conn, { watchInactivityMs: 100 });
    const done = await new Promise<unknown>((resolve) => {
      void client.watch('/api/v1/pods', {}, () => undefined, resolve);
    });
    expect(done).toBeInstanceOf(WatchStalledError);

    let called = false;
    const handle = await client.watch(
      '/api/v1/pods',
      {},
      () => undefined,
      () => (called = true),
    );
    handle.abort();
    await new Promise((r) => setTimeout(r, 200));
    expect(called).toBe(false);
  });
});
