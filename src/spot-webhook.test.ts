/**
 * `aicost webhook` (the chart's webhook.separateDeployment) on the in-memory API: it answers reviews from the
 * caches a review reads, and never touches what the operator's controllers do: no pod list or watch, no Lease,
 * no Event list, no patch.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from './controller/clock.ts';
import { createMetrics } from './controller/metrics.ts';
import type { AdmissionReview } from './reconcilers/spot-admission.ts';
import { startWebhookRole, type WebhookRole } from './spot-webhook.ts';
import { createPricingProvider } from './pricing/provider.ts';
import { FakeKube } from './testing/fake-kube.ts';
import { podCreateReview } from './testing/harness.ts';
import { defaultWebhookLimits, postReview, selfSignedDir } from './testing/webhook-tls.ts';

const log = pino({ level: 'silent' });
const prices = createPricingProvider();
const CHECKPOINTED = { 'aicost.dev/checkpoint-path': '/ckpt', 'aicost.dev/checkpoint-interval': '10m' };

let role: WebhookRole | undefined;
afterEach(async () => {
  await role?.stop();
  role = undefined;
});

/** A cluster with everything the operator's controllers would read: nodes, bound pods, a Lease, Events. */
function cluster(): FakeKube {
  const api = new FakeKube();
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  api.put('/api/v1/nodes', { metadata: { name: 'spot-1', labels: { 'karpenter.sh/capacity-type': 'spot' } } });
  api.put('/api/v1/nodes', {
    metadata: { name: 'p4d-1', labels: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' } },
    status: { allocatable: { 'nvidia.com/gpu': '8', cpu: '96', memory: '1152Gi' } },
  });
  api.put('/api/v1/namespaces/ml/pods', {
    metadata: { name: 'running', namespace: 'ml', labels: { workload: 'training' } },
    spec: { nodeName: 'spot-1', containers: [{ name: 'main' }] },
  });
  api.put('/apis/batch/v1/namespaces/ml/jobs', {
    metadata: { name: 'train', namespace: 'ml', uid: 'job-uid', labels: { workload: 'training' } },
    spec: { template: { metadata: {} } },
  });
  api.put('/apis/coordination.k8s.io/v1/namespaces/aicost-system/leases', {
    metadata: { name: 'aicost-operator', namespace: 'aicost-system' },
  });
  api.put('/apis/aicost.dev/v1alpha1/aicostpolicies', {
    metadata: { name: 'training-spot', generation: 1 },
    spec: {
      mode: 'Enforce',
      selector: { matchLabels: { workload: 'training' } },
      rules: { spot: { placement: 'Preferred' } },
    },
  });
  return api;
}

describe('the webhook-only role', () => {
  it('answers reviews from its caches and starts no controller: no pods, no Lease, no Event list, no patch', async () => {
    const api = cluster();
    const { dir, cert } = selfSignedDir();
    role = await startWebhookRole({
      client: api,
      clock: new FakeClock(Date.UTC(2026, 10, 23)),
      log,
      metrics: createMetrics(['team'], 100),
      pricing: { current: () => prices, refresh: () => Promise.resolve(undefined) },
      options: { bindAddress: '127.0.0.1', defaultMode: 'Audit', spotConventions: 'all', namespace: 'aicost-system' },
      webhook: { port: 0, certDir: dir, limits: defaultWebhookLimits() },
    });
    await vi.waitFor(() => expect(role?.ready()).toEqual({ ready: true, detail: 'role: webhook' }));
    const pod = {
      metadata: {
        generateName: 'train-',
        namespace: 'ml',
        labels: { 'job-name': 'train' },
        annotations: CHECKPOINTED,
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'job-uid', controller: true }],
      },
      spec: { containers: [{ name: 'main', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    };
    const answer = await postReview(role.server.port, cert, JSON.stringify(podCreateReview(pod)));
    expect(answer.status).toBe(200);
    // Steered by the Job's labels, which only the cache knows: the caches serve the review.
    expect((JSON.parse(answer.body) as AdmissionReview).response).toMatchObject({
      allowed: true,
      patchType: 'JSONPatch',
      // The price before launch, from the nodes it caches and the pricing it was given.
      warnings: ['aicost: about 1.76 USD/h on p4d.24xlarge (on-demand)'],
    });
    await vi.waitFor(() =>
      expect(api.requests.some((r) => r.verb === 'create' && r.path.includes('/events'))).toBe(true),
    );
    const touched = api.requests.map((r) => `${r.verb} ${r.path.split('?')[0] ?? ''}`);
    expect(touched.filter((t) => /\/pods|\/leases|^(list|watch) .*\/events|^(patch|update|delete)/.test(t))).toEqual(
      [],
    );
    expect(new Set(touched.filter((t) => /^(list|watch)/.test(t)).map((t) => t.split('/').at(-1)))).toEqual(
      new Set(['nodes', 'namespaces', 'replicasets', 'jobs', 'deployments', 'statefulsets', 'aicostpolicies']),
    );
  });
});
