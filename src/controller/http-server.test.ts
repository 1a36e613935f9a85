import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeKube } from '../testing/fake-kube.ts';
import { generateSelfSigned } from '../webhook/self-signed.ts';
import { FakeClock } from './clock.ts';
import { startHttpServers, type HttpServerOptions, type HttpServers } from './http-server.ts';
import { createMetricsAuthorizer } from './metrics-auth.ts';

const log = pino({ level: 'silent' });
const PROMETHEUS = 'system:serviceaccount:monitoring:prometheus';

interface Answer {
  status: number | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET over HTTP or HTTPS (trusting `ca`), with an optional bearer token. */
function get(url: string, options: { ca?: string; token?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { headers, ...(options.ca ? { ca: options.ca } : {}), agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function registry(): Registry {
  const r = new Registry();
  new Counter({ name: 'aicost_cost_total', help: 'spend', labelNames: ['namespace'], registers: [r] }).inc(
    { namespace: 'team-a' },
    12,
  );
  return r;
}

let running: HttpServers | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(options: Partial<HttpServerOptions>): Promise<HttpServers> {
  running = await startHttpServers({
    bindAddress: '127.0.0.1',
    metricsPort: 0,
    healthPort: 0,
    registry: registry(),
    healthy: () => ({ ready: true, detail: 'running' }),
    ready: () => ({ ready: true, detail: 'role: leader' }),
    ...options,
  });
  return running;
}

describe('secure /metrics over HTTPS', () => {
  const api = new FakeKube();
  api.tokens.set('prom-token', { username: PROMETHEUS });
  api.tokens.set('tenant-token', { username: 'system:serviceaccount:team-a:default' });
  api.nonResourceGrants.add(`${PROMETHEUS} get /metrics`);
  const pair = generateSelfSigned(
    ['localhost', '127.0.0.1'],
    new Date(),
    365,
    ['serverAuth'],
    'aicost-operator metrics',
  );
  const secure = {
    certDir: undefined,
    selfSigned: () => ({ cert: Buffer.from(pair.cert), key: Buffer.from(pair.key) }),
    authorize: createMetricsAuthorizer({ client: api, clock: new FakeClock(), log }),
    log,
  };

  it('401 without a token or with an unknown one, 403 without the grant, 200 with the metrics when allowed', async () => {
    const { metricsPort } = await start({ secure });
    const url = `https://127.0.0.1:${metricsPort}/metrics`;
    const none = await get(url, { ca: pair.cert });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body).not.toContain('aicost_cost_total');
    const unknown = await get(url, { ca: pair.cert, token: 'made-up' });
    expect(unknown.status).toBe(401);
    const tenant = await get(url, { ca: pair.cert, token: 'tenant-token' });
    expect(tenant.status).toBe(403);
    expect(tenant.body).not.toContain('aicost_cost_total');
    const prometheus = await get(url, { ca: pair.cert, token: 'prom-token' });
    expect(prometheus.status).toBe(200);
    expect(prometheus.body).toContain('aicost_cost_total{namespace="team-a"} 12');
  });

  it('serves no plain HTTP on the metrics port; the probes stay plain and unauthenticated, and say no cost', async () => {
    const { metricsPort, healthPort } = await start({ secure });
    await expect(get(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
    for (const path of ['/healthz', '/readyz']) {
      const probe = await get(`http://127.0.0.1:${healthPort}${path}`);
      expect(probe.status).toBe(200);
      expect(probe.body).not.toContain('aicost_');
    }
    expect((await get(`http://127.0.0.1:${healthPort}/metrics`)).status).toBe(404);
  });

  it('takes its certificate from a directory when given one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicost-metrics-cert-'));
    const other = generateSelfSigned(['127.0.0.1'], new Date());
    writeFileSync(join(dir, 'tls.crt'), other.cert);
    writeFileSync(join(dir, 'tls.key'), other.key);
    const { metricsPort } = await start({ secure: { ...secure, certDir: dir } });
    const url = `https://127.0.0.1:${metricsPort}/metrics`;
    expect((await get(url, { ca: other.cert, token: 'prom-token' })).status).toBe(200);
    await expect(get(url, { ca: pair.cert, token: 'prom-token' })).rejects.toThrow(/self-signed|verify/i);
  });

  it('refuses one port for secure metrics and plain probes', async () => {
    await expect(start({ secure, metricsPort: 18_080, healthPort: 18_080 })).rejects.toThrow(
      'secure /metrics needs a port of its own',
    );
  });
});

/** A port free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('plain /metrics (local runs, the demo)', () => {
  it('serves the metrics to anyone, and the probes on the same port when the ports match', async () => {
    const port = await freePort();
    const one = await start({
      metricsPort: port,
      healthPort: port,
      ready: () => ({ ready: false, detail: 'caches not synced: pods' }),
    });
    expect(one).toMatchObject({ metricsPort: port, healthPort: port });
    expect((await get(`http://127.0.0.1:${port}/metrics`)).body).toContain('aicost_cost_total');
    const readyz = await get(`http://127.0.0.1:${port}/readyz`);
    expect(readyz).toMatchObject({ status: 503, body: 'not ready: caches not synced: pods\n' });
  });
});
