/**
 * The webhook the benches call: the admission handler over 50 spot policies and a team budget (and, when asked,
 * 50 exceeded budgets) on the in-memory API, with `gpuNodes` GPU nodes of five instance types (each with its hostname, as real ones have) for the
 * price before launch, served over TLS on 127.0.0.1 with the limits `aicost run` takes from `limitArgs` (its
 * --webhook-* flags).
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
      spec: {
        containers: [{ name: 'c', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }],
      },
    },
  },
});

const INSTANCE_TYPES = [
  ['p4d.24xlarge', '8', '96', '1152Gi'],
  ['p5.48xlarge', '8', '192', '2048Gi'],
  ['g5.xlarge', '1', '4', '16Gi'],
  ['g5.12xlarge', '4', '48', '192Gi'],
  ['g6.xlarge', '1', '4', '16Gi'],
] as const;

/**
 * A budget per workload label, exceeded this month, refusing new GPU pods in Audit: a review of its pods runs
 * the whole budget path (scope, owner, override, warning) and is still admitted with the spot patch.
 */
function exceededBudget(i: number) {
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const monthEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
  return {
    metadata: { name: `budget-${String(i)}`, generation: 1 },
    spec: {
      selector: { matchLabels: { workload: `w${String(i)}` } },
      rules: { budget: { amount: '100', mode: 'Audit', onExceeded: ['DenyNewGPUPods'] } },
    },
    status: {
      observedGeneration: 1,
      currency: 'USD',
      budget: {
        periodStart: iso(monthStart),
        periodEnd: iso(monthEnd),
        accountedUntil: iso(now),
        spent: '123.000000',
        percent: 123,
        forecast: '400.00',
        forecastPercent: 400,
        lastThresholdCrossed: 100,
        exceededAt: iso(monthStart),
      },
    },
  };
}

export async function startBenchWebhook(limitArgs: readonly string[] = [], gpuNodes = 0, budgetPolicies = 0) {
  const api = new FakeKube();
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  for (let i = 0; i < gpuNodes; i++) {
    const [type, gpus, cpu, memory] = INSTANCE_TYPES[i % INSTANCE_TYPES.length] ?? INSTANCE_TYPES[0];
    const name = `gpu-${String(i)}`;
    api.put('/api/v1/nodes', {
      metadata: {
        name,
        labels: {
          'node.kubernetes.io/instance-type': type,
          'kubernetes.io/hostname': name,
          'topology.kubernetes.io/zone': `us-east-1${'abc'[i % 3] ?? 'a'}`,
        },
      },
      spec: { taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] },
      status: { allocatable: { 'nvidia.com/gpu': gpus, cpu, memory } },
    });
  }
  api.put('/apis/aicost.dev/v1alpha1/aicostpolicies', {
    metadata: { name: 'team-research', generation: 1 },
    spec: { namespaceSelector: { matchLabels: { team: 'research' } }, rules: { budget: { amount: '5000' } } },
  });
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
  for (let i = 0; i < budgetPolicies; i++) api.put(POLICIES, exceededBudget(i));
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
