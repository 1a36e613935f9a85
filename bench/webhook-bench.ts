/**
 * npm run bench:webhook: answer time of the spot admission webhook over TLS (keep-alive, as the API server
 * calls it), with 50 spot policies in the cache. Reviews are answered from memory: no API call is made.
 *   BENCH_REVIEWS (default 2000)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { FakeClock } from '../src/controller/clock.ts';
import { startWebhookServer } from '../src/controller/webhook-server.ts';
import { FakeKube } from '../src/testing/fake-kube.ts';
import { startSpotAdmission } from '../src/testing/harness.ts';
import { generateSelfSigned } from '../src/webhook/self-signed.ts';

const REVIEWS = Number(process.env.BENCH_REVIEWS ?? 2000);
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const log = pino({ level: 'silent' });
const api = new FakeKube();
const clock = new FakeClock(Date.now());
api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
for (let i = 0; i < 50; i++) {
  api.put(POLICIES, {
    metadata: { name: `spot-${String(i)}`, generation: 1 },
    spec: {
      mode: 'Enforce',
      selector: { matchLabels: { workload: `w${String(i)}` } },
      rules: { spot: { placement: 'Preferred' } },
    },
  });
}
const spot = await startSpotAdmission(api, clock, {
  // Events are not what is measured: answers that would record one record nothing here.
  events: { record: () => Promise.resolve() },
});
const dir = mkdtempSync(join(tmpdir(), 'aicost-webhook-bench-'));
const pair = generateSelfSigned(['127.0.0.1'], new Date());
writeFileSync(join(dir, 'tls.crt'), pair.cert);
writeFileSync(join(dir, 'tls.key'), pair.key);
const server = await startWebhookServer({
  bindAddress: '127.0.0.1',
  port: 0,
  certDir: dir,
  log,
  handle: (_path, body) => spot.admission.review(body),
});
const agent = new Agent({ connect: { ca: pair.cert } });
const body = JSON.stringify({
  request: {
    uid: 'u',
    kind: { kind: 'Pod' },
    operation: 'CREATE',
    namespace: 'ml',
    object: {
      metadata: {
        generateName: 'train-',
        labels: { workload: 'w7' },
        annotations: { 'aicost.dev/checkpoint-path': '/ckpt', 'aicost.dev/checkpoint-interval': '10m' },
      },
      spec: { containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    },
  },
});
const times: number[] = [];
for (let i = 0; i < REVIEWS; i++) {
  const t = process.hrtime.bigint();
  const r = await request(`https://127.0.0.1:${String(server.port)}/mutate-v1-pod`, {
    method: 'POST',
    body,
    dispatcher: agent,
  });
  const text = await r.body.text();
  if (!text.includes('JSONPatch')) throw new Error(`unexpected answer: ${text}`);
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN).toFixed(2);
console.log(
  `webhook bench: ${String(REVIEWS)} reviews over TLS, 50 spot policies: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
);
await server.close();
await agent.close();
spot.stop();
