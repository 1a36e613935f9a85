/**
 * The Prometheus client against a real local HTTPS server that asks what a secured Prometheus (behind
 * kube-rbac-proxy, a Mimir gateway, an mTLS mesh) asks: a client certificate it trusts, a bearer token and
 * the tenant header. The certificates are made here (src/webhook/self-signed.ts), the credentials are files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodePath, signV4 } from '../ledger/sigv4.ts';
import { generateSelfSigned } from '../webhook/self-signed.ts';
import { createPrometheusClient, PrometheusError, type ClientSettings } from './prometheus-client.ts';
import { CREDENTIAL_TTL_MS } from './refreshed-file.ts';

const NOW = new Date();
const serverPair = generateSelfSigned(['127.0.0.1', 'localhost'], NOW);
const clientPair = generateSelfSigned(['aicost-operator'], NOW, 1, ['clientAuth']);
/** A client certificate the server does not trust. */
const strangerPair = generateSelfSigned(['aicost-operator'], NOW, 1, ['clientAuth']);
/** A CA that did not sign the server's certificate. */
const otherCa = generateSelfSigned(['127.0.0.1'], NOW).cert;

const MATRIX = JSON.stringify({
  status: 'success',
  data: { resultType: 'matrix', result: [{ metric: { pod: 'train-0', namespace: 'ml' }, values: [[1, '0.5']] }] },
});

/** What the server wants, and what it saw. */
const expected = { token: 'token-1', basic: '' };
const seen: { authorization: string; orgId: string | undefined; url: string }[] = [];

function answer(req: IncomingMessage, res: ServerResponse): void {
  const authorization = req.headers.authorization ?? '';
  const orgId = req.headers['x-scope-orgid'];
  seen.push({ authorization, orgId: typeof orgId === 'string' ? orgId : undefined, url: req.url ?? '' });
  const refuse = (status: number, error: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'error', error }));
  };
  const wanted = expected.basic ? `Basic ${expected.basic}` : `Bearer ${expected.token}`;
  if (authorization !== wanted) return refuse(401, 'unauthorized');
  if (orgId !== 'tenant-a') return refuse(400, 'no org id');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(MATRIX);
}

let server: Server;
let url = '';
let dir = '';
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

beforeAll(async () => {
  // Only the client's certificate is trusted, and a client without one is refused in the handshake.
  server = createServer(
    { key: serverPair.key, cert: serverPair.cert, ca: clientPair.cert, requestCert: true, rejectUnauthorized: true },
    answer,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'prom-auth-'));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  expected.token = 'token-1';
  expected.basic = '';
  seen.length = 0;
});

/** Every file right: the CA, the client's certificate and key, the token and the header. */
function rightSettings(): ClientSettings {
  return {
    url,
    timeoutMs: 5000,
    auth: { kind: 'bearer-file', tokenFile: file('token', 'token-1\n') },
    tls: {
      caFile: file('ca.crt', serverPair.cert),
      certFile: file('tls.crt', clientPair.cert),
      keyFile: file('tls.key', clientPair.key),
    },
    headers: [['X-Scope-OrgID', 'tenant-a']],
  };
}

const query = (settings: ClientSettings, nowMs?: () => number) =>
  createPrometheusClient(settings, nowMs).queryMatrix('DCGM_FI_PROF_GR_ENGINE_ACTIVE[60s]', 1);

describe('the Prometheus client over TLS with credentials', () => {
  it('passes with the right CA, client certificate, token and header', async () => {
    expect(await query(rightSettings())).toEqual([
      { metric: { pod: 'train-0', namespace: 'ml' }, values: [[1, '0.5']] },
    ]);
    expect(seen).toEqual([
      {
        authorization: 'Bearer token-1',
        orgId: 'tenant-a',
        url: '/api/v1/query?query=DCGM_FI_PROF_GR_ENGINE_ACTIVE%5B60s%5D&time=1',
      },
    ]);
  });

  it('fails with any one of them wrong or missing', async () => {
    const right = rightSettings();
    const tls = right.tls ?? { caFile: undefined, certFile: undefined, keyFile: undefined };
    const cases: [string, ClientSettings, RegExp][] = [
      [
        'no CA file: the system roots',
        { ...right, tls: { ...tls, caFile: undefined } },
        /did not answer: self[- ]signed certificate/,
      ],
      [
        'another CA',
        { ...right, tls: { ...tls, caFile: file('other-ca.crt', otherCa) } },
        /did not answer: self[- ]signed/,
      ],
      [
        'no client certificate',
        { ...right, tls: { ...tls, certFile: undefined, keyFile: undefined } },
        /did not answer: .*certificate required/,
      ],
      [
        'a certificate the server does not trust',
        {
          ...right,
          tls: { ...tls, certFile: file('s.crt', strangerPair.cert), keyFile: file('s.key', strangerPair.key) },
        },
        // TLS 1.3: the server's alert comes after the client has sent its request.
        /did not answer: (socket hang up|.*unknown ca|.*ECONNRESET)/,
      ],
      [
        'a wrong token',
        { ...right, auth: { kind: 'bearer-file', tokenFile: file('bad', 'token-0') } },
        /query failed \(401\): unauthorized/,
      ],
      ['no token', { ...right, auth: { kind: 'none' } }, /query failed \(401\)/],
      ['no header', { ...right, headers: [] }, /query failed \(400\): no org id/],
      [
        'a token file that is not there',
        { ...right, auth: { kind: 'bearer-file', tokenFile: join(dir, 'missing') } },
        /^no query sent to Prometheus at https:\/\/127\.0\.0\.1:\d+: cannot read .*missing: ENOENT$/,
      ],
      ['an empty token file', { ...right, auth: { kind: 'bearer-file', tokenFile: file('empty', '\n') } }, /empty$/],
    ];
    for (const [name, settings, message] of cases) {
      const error = await query(settings).then(
        () => new Error(`${name}: answered`),
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(PrometheusError);
      expect((error as Error).message, name).toMatch(message);
    }
  });

  it('picks up a rotated token once its copy is old, without a restart', async () => {
    let nowMs = 1_000_000;
    const settings = rightSettings();
    const client = createPrometheusClient(settings, () => nowMs);
    const ask = () => client.queryMatrix('up[1m]', 1);
    await expect(ask()).resolves.toHaveLength(1);
    // The kubelet writes a new token; the server stops taking the old one (here at once, to see the switch).
    file('token', 'token-2');
    expected.token = 'token-2';
    nowMs += CREDENTIAL_TTL_MS - 1;
    await expect(ask()).rejects.toThrow('(401)');
    nowMs += 1;
    await expect(ask()).resolves.toHaveLength(1);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
  });

  it('picks up a renewed client certificate: a new connection pool with the new files', async () => {
    let nowMs = 2_000_000;
    const right = rightSettings();
    const tls = right.tls ?? { caFile: undefined, certFile: undefined, keyFile: undefined };
    const settings = {
      ...right,
      tls: { ...tls, certFile: file('c.crt', strangerPair.cert), keyFile: file('c.key', strangerPair.key) },
    };
    const client = createPrometheusClient(settings, () => nowMs);
    await expect(client.queryMatrix('up[1m]', 1)).rejects.toThrow(/did not answer/);
    file('c.crt', clientPair.cert);
    file('c.key', clientPair.key);
    nowMs += CREDENTIAL_TTL_MS;
    await expect(client.queryMatrix('up[1m]', 1)).resolves.toHaveLength(1);
  });

  it('basic auth from a password file, re-read as it changes', async () => {
    let nowMs = 3_000_000;
    expected.basic = Buffer.from('bob:pw-1').toString('base64');
    const settings = {
      ...rightSettings(),
      auth: { kind: 'basic-file', username: 'bob', passwordFile: file('password', 'pw-1\n') },
    } as const;
    const client = createPrometheusClient(settings, () => nowMs);
    await expect(client.queryMatrix('up[1m]', 1)).resolves.toHaveLength(1);
    file('password', 'pw-2');
    expected.basic = Buffer.from('bob:pw-2').toString('base64');
    nowMs += CREDENTIAL_TTL_MS;
    await expect(client.queryMatrix('up[1m]', 1)).resolves.toHaveLength(1);
  });

  it('signs for Amazon Managed Service for Prometheus: the signature covers the request as sent', async () => {
    const credentials = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 'st',
    };
    const settings: ClientSettings = {
      ...rightSettings(),
      url: `${url}/workspaces/ws-1`,
      auth: { kind: 'sigv4', region: 'us-west-2', credentials },
    };
    // The server wants no bearer token here: read what was sent, and check its signature as AWS would.
    await query(settings).catch(() => undefined);
    const sent = seen[0];
    const requestUrl = new URL(sent?.url ?? '/', url);
    expect(requestUrl.pathname).toBe('/workspaces/ws-1/api/v1/query');
    const date =
      /Credential=AKIDEXAMPLE\/(\d{8})\/us-west-2\/aps\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/.exec(
        sent?.authorization ?? '',
      );
    expect(date).not.toBeNull();
  });
});

describe('the SigV4 headers against a recomputation from the raw request', () => {
  it('match what AWS computes from the path and query the server received', async () => {
    const received: { url: string; headers: IncomingMessage['headers'] }[] = [];
    const plain = (await import('node:http')).createServer((req, res) => {
      received.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(MATRIX);
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/workspaces/ws-1`;
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const nowMs = Date.UTC(2026, 0, 2, 3, 4, 5);
    try {
      await createPrometheusClient(
        { url: base, timeoutMs: 5000, auth: { kind: 'sigv4', region: 'eu-west-1', credentials } },
        () => nowMs,
      ).queryMatrix('sum by (pod) (rate(x{job="a b"}[5m]))', 1700000000.5);
    } finally {
      await new Promise((r) => plain.close(r));
    }
    const request = received[0];
    const [rawPath = '', rawQuery = ''] = (request?.url ?? '').split('?');
    expect(rawQuery).not.toContain('+');
    const pairs = rawQuery.split('&').map((kv) => kv.split('=').map(decodeURIComponent) as [string, string]);
    const recomputed = signV4({
      method: 'GET',
      host: request?.headers.host ?? '',
      path: encodePath(rawPath),
      query: pairs,
      headers: {},
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      region: 'eu-west-1',
      service: 'aps',
      credentials,
      now: new Date(nowMs),
    });
    expect(request?.headers.authorization).toBe(recomputed.authorization);
    expect(request?.headers['x-amz-date']).toBe('20260102T030405Z');
  });
});
