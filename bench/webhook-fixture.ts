/**
 * The webhook the benches call: the spot admission handler over 50 spot policies on the in-memory API, served
 * over TLS on 127.0.0.1 with the limits `aicost run` takes from `limitArgs` (its --webhook-* flags).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../src/config/config.ts';
import { FakeClock } from '../src/controller/clock.ts';
import { startWebhookServer } from '../src/controller/webhook-server.ts';
import { FakeKube } from '../src/testing/fake-kube.ts';
import { startSpotAdmission } from '../src/testing/harness.ts';
import { generateSelfSigned } from '../src/webhook/self-signed.ts';

const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';

/** A checkpointed training pod that policy spot-7 steers to spot: the answer is a JSON patch. */
export const REVIEW_BODY = JSON.stringify({
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

export async function startBenchWebhook(limitArgs: readonly string[] = []) {
  const api = new FakeKube();
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
  const spot = await startSpotAdmission(api, new FakeClock(Date.now()), {
    // Events are not what is measured: answers that would record one record nothing here.
    events: { record: () => Promise.resolve() },
  });
  const dir = mkdtempSync(join(tmpdir(), 'aicost-webhook-bench-'));
  const pair = generateSelfSigned(['127.0.0.1'], new Date());
  writeFileSync(join(dir, 'tls.crt'), pair.cert);
  writeFileSync(join(dir, 'tls.key'), pair.key);
  const config = parseConfig(['--webhook-port=9443', `--webhook-cert-dir=${dir}`, ...limitArgs], {}, 'bench');
  if (!config.webhook) throw new Error('the flags above turn the webhook on');
  const server = await startWebhookServer({
    bindAddress: '127.0.0.1',
    port: 0,
    certDir: dir,
    log: pino({ level: 'silent' }),
    limits: config.webhook.limits,
    handle: (_path, body) => spot.admission.review(body),
  });
  return {
    server,
    cert: pair.cert,
    async stop() {
      await server.close();
      spot.stop();
    },
  };
}
