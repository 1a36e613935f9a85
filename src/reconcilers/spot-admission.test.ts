import { mkdtempSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock, flushPromises } from '../controller/clock.ts';
import { startWebhookServer, WEBHOOK_PATH, type WebhookServer } from '../controller/webhook-server.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { podCreateReview, startSpotAdmission } from '../testing/harness.ts';
import { defaultWebhookLimits, postReview, serveWebhook } from '../testing/webhook-tls.ts';
import { generateSelfSigned } from '../webhook/self-signed.ts';
import type { AdmissionReview } from './spot-admission.ts';

const log = pino({ level: 'silent' });
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const CHECKPOINTED = { 'aicost.dev/checkpoint-path': '/ckpt', 'aicost.dev/checkpoint-interval': '10m' };

async function setup(defaultMode: 'Audit' | 'Enforce' = 'Audit', conventions: 'all' | 'observed' = 'all') {
  const api = new FakeKube();
  const clock = new FakeClock(Date.UTC(2026, 10, 23));
  api.put('/api/v1/namespaces', { metadata: { name: 'ml', labels: { team: 'research' } } });
  api.put('/api/v1/nodes', { metadata: { name: 'spot-1', labels: { 'karpenter.sh/capacity-type': 'spot' } } });
  api.put('/apis/batch/v1/namespaces/ml/jobs', {
    metadata: { name: 'train', namespace: 'ml', uid: 'job-uid', labels: { workload: 'training' } },
    spec: { template: { metadata: {} } },
  });
  api.put(POLICIES, {
    metadata: { name: 'training-spot', generation: 1 },
    spec: { selector: { matchLabels: { workload: 'training' } }, rules: { spot: { placement: 'Preferred' } } },
  });
  api.put(POLICIES, {
    metadata: { name: 'serving-on-demand', generation: 1 },
    spec: { selector: { matchLabels: { workload: 'serving' } }, rules: { spot: { placement: 'Forbidden' } } },
  });
  return { api, ...(await startSpotAdmission(api, clock, { defaultMode, conventions })) };
}

const jobPod = (annotations: Record<string, string> = {}, spec: Record<string, unknown> = {}) => ({
  metadata: {
    generateName: 'train-',
    namespace: 'ml',
    labels: { 'job-name': 'train' },
    annotations,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'job-uid', controller: true }],
  },
  spec: { containers: [{ name: 'main' }], ...spec },
});

const decoded = (r: AdmissionReview) =>
  JSON.parse(Buffer.from(r.response.patch ?? '', 'base64').toString('utf8')) as {
    op: string;
    path: string;
    value: unknown;
  }[];

describe('SpotAdmission', () => {
  it("matches a Job's pod by the Job's labels and steers it to spot under Enforce", async () => {
    const s = await setup('Enforce');
    const r = s.admission.review(podCreateReview(jobPod(CHECKPOINTED)));
    expect(r.response).toMatchObject({ uid: 'req-1', allowed: true, patchType: 'JSONPatch' });
    expect(decoded(r).map((op) => op.path)).toEqual([
      '/spec/affinity',
      '/spec/tolerations',
      '/metadata/annotations/aicost.dev~1spot-placement',
      '/metadata/annotations/aicost.dev~1spot-policy',
    ]);
    // The Event goes on the Job: the pod has no name yet.
    await Promise.resolve();
    const events = s.api.objectsUnder('/api/v1/namespaces/ml/events') as unknown as {
      involvedObject: { kind: string };
      reason: string;
    }[];
    expect(events.map((e) => [e.involvedObject.kind, e.reason])).toEqual([['Job', 'SpotPlacement']]);
    s.stop();
  });

  // Issue #19: the Job's labels count only for a pod whose reference names the Job's uid.
  it("a pod naming the Job with a forged uid gets neither the Job's labels nor its Event", async () => {
    const s = await setup('Enforce');
    const forged = jobPod(CHECKPOINTED);
    forged.metadata.ownerReferences = [
      { apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'forged-uid', controller: true },
    ];
    const r = s.admission.review(podCreateReview(forged));
    expect(r.response).toMatchObject({ uid: 'req-1', allowed: true });
    expect(r.response.patch).toBeUndefined();
    await Promise.resolve();
    expect(s.api.objectsUnder('/api/v1/namespaces/ml/events')).toEqual([]);
    s.stop();
  });

  it('uses the default mode when the policy sets none: Audit admits unchanged with a warning', async () => {
    const s = await setup('Audit');
    const r = s.admission.review(podCreateReview(jobPod()));
    expect(r.response.allowed).toBe(true);
    expect(r.response.patch).toBeUndefined();
    expect(r.response.warnings?.[0]).toContain('Enforce would keep it off spot nodes');
    s.stop();
  });

  it('denies under Enforce a pod that selects spot without a checkpoint, and records no Event on a dry run', async () => {
    const s = await setup('Enforce');
    const r = s.admission.review(
      podCreateReview(jobPod({}, { nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } }), { dryRun: true }),
    );
    expect(r.response.allowed).toBe(false);
    expect(r.response.status).toMatchObject({ code: 403, reason: 'Forbidden' });
    expect(r.response.status?.message).toContain('add the pod template annotations aicost.dev/checkpoint-path');
    await Promise.resolve();
    expect(s.api.objectsUnder('/api/v1/namespaces/ml/events')).toEqual([]);
    s.stop();
  });

  it('names the denying policy on the SpotDenied Event, for the leader to count the denial in its status', async () => {
    const s = await setup('Enforce');
    const spotPod = jobPod({}, { nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } });
    expect(s.admission.review(podCreateReview(spotPod)).response.allowed).toBe(false);
    await Promise.resolve();
    const events = s.api.objectsUnder('/api/v1/namespaces/ml/events') as unknown as {
      metadata: { annotations?: Record<string, string> };
      involvedObject: { kind: string; name: string };
      reason: string;
      count: number;
    }[];
    expect(events.map((e) => [e.reason, e.involvedObject.name, e.count, e.metadata.annotations])).toEqual([
      ['SpotDenied', 'train', 1, { 'aicost.dev/spot-policy': 'training-spot' }],
    ]);
    s.stop();
  });

  // Issue #19: an internal error admitted the pod unchanged, so a Forbidden rule's pod could land on spot.
  it('refuses the pod with an InternalError answer when the review fails inside, over TLS too', async () => {
    const s = await setup('Enforce');
    const serving = {
      metadata: { name: 'web', namespace: 'ml', labels: { workload: 'serving' } },
      spec: { containers: [{ name: 'main' }], nodeSelector: { 'karpenter.sh/capacity-type': 'spot' } },
    };
    const body = podCreateReview(serving);
    expect(s.admission.review(body).response).toMatchObject({ allowed: false, status: { code: 403 } });
    const fault = () =>
      vi.spyOn(s.metrics.webhookAdmissions, 'inc').mockImplementationOnce(() => {
        throw new Error('injected fault');
      });
    fault();
    const failed = s.admission.review(body).response;
    expect(failed).toMatchObject({ uid: 'req-1', allowed: false, status: { code: 500, reason: 'InternalError' } });
    expect(failed.status?.message).toContain('injected fault');
    expect(failed.patch).toBeUndefined();
    // The API server reads the same refusal from the server (an answer, so no failurePolicy applies).
    const hook = await serveWebhook((_p, b) => s.admission.review(b));
    fault();
    const answer = await postReview(hook.server.port, hook.cert, JSON.stringify(body));
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as AdmissionReview).response).toMatchObject({
      allowed: false,
      status: { code: 500 },
    });
    await hook.server.close();
    s.stop();
  });

  it('observed conventions: only the labels the nodes carry, seen again when a node changes', async () => {
    const s = await setup('Enforce', 'observed');
    const preferredKeys = () => {
      const affinity = decoded(s.admission.review(podCreateReview(jobPod(CHECKPOINTED))))[0]?.value as {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: { preference: { matchExpressions: { key: string }[] } }[];
        };
      };
      return affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution.map(
        (p) => p.preference.matchExpressions[0]?.key,
      );
    };
    expect(preferredKeys()).toEqual(['karpenter.sh/capacity-type']);
    // A GKE spot pool joins: the next review prefers it too.
    s.api.put('/api/v1/nodes', { metadata: { name: 'gke-spot-1', labels: { 'cloud.google.com/gke-spot': 'true' } } });
    await flushPromises();
    expect(preferredKeys()).toEqual(['karpenter.sh/capacity-type', 'cloud.google.com/gke-spot']);
    s.stop();
  });

  it.each([
    ['an unmatched pod', podCreateReview({ metadata: { name: 'web', labels: { app: 'web' } }, spec: {} })],
    ['a protected namespace', podCreateReview(jobPod(), { namespace: 'kube-system' })],
    ['an exempt pod', podCreateReview(jobPod({ 'aicost.dev/exempt': 'true' }))],
    ['an UPDATE', podCreateReview(jobPod(), { operation: 'UPDATE' })],
    [
      'garbage',
      { request: { uid: 'req-1', kind: { kind: 'Pod' }, operation: 'CREATE', object: { metadata: 7, spec: 'x' } } },
    ],
  ])('admits %s unchanged', async (_name, body) => {
    const s = await setup('Enforce');
    const r = s.admission.review(body);
    expect(r.response).toEqual({ uid: 'req-1', allowed: true });
    s.stop();
  });
});

describe('webhook server', () => {
  let server: WebhookServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const post = (port: number, ca: string, body: string, path = WEBHOOK_PATH) =>
    new Promise<{ status: number; text: string; serial: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          ca,
          agent: false,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          const socket: TLSSocket = res.socket as TLSSocket; // eslint-disable-line @typescript-eslint/no-unsafe-class-instance-assignment -- the socket of an https response is a TLSSocket
          const serial = socket.getPeerCertificate().serialNumber;
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, text, serial });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

  it('answers reviews over TLS, rejects other paths and bad JSON, and reloads a renewed certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicost-webhook-'));
    const first = generateSelfSigned(['127.0.0.1'], new Date());
    writeFileSync(join(dir, 'tls.crt'), first.cert);
    writeFileSync(join(dir, 'tls.key'), first.key);
    const s = await setup('Enforce');
    server = await startWebhookServer({
      bindAddress: '127.0.0.1',
      port: 0,
      certDir: dir,
      log,
      reloadMs: 100,
      limits: defaultWebhookLimits(),
      handle: (_p, body) => s.admission.review(body),
    });
    const ok = await post(server.port, first.cert, JSON.stringify(podCreateReview(jobPod(CHECKPOINTED))));
    expect(ok.status).toBe(200);
    expect((JSON.parse(ok.text) as AdmissionReview).response.patchType).toBe('JSONPatch');
    expect((await post(server.port, first.cert, '{}', '/other')).status).toBe(404);
    expect((await post(server.port, first.cert, 'not json')).status).toBe(400);
    expect(ok.serial).toBe(serialOf(first.cert));
    // cert-manager renews the Secret: the next connections see the new certificate, without a restart.
    const second = generateSelfSigned(['127.0.0.1'], new Date());
    writeFileSync(join(dir, 'tls.crt'), second.cert);
    writeFileSync(join(dir, 'tls.key'), second.key);
    const port = server.port;
    await vi.waitFor(
      async () => {
        expect((await post(port, second.cert, JSON.stringify(podCreateReview(jobPod())))).serial).toBe(
          serialOf(second.cert),
        );
      },
      { timeout: 5000, interval: 100 },
    );
    s.stop();
  });

  it('fails to start with a clear message when the certificate is missing', async () => {
    await expect(
      startWebhookServer({
        bindAddress: '127.0.0.1',
        port: 0,
        certDir: '/nonexistent',
        log,
        limits: defaultWebhookLimits(),
        handle: () => ({}),
      }),
    ).rejects.toThrow(/cannot read the webhook certificate from \/nonexistent/);
  });

  it("removes the operator's keys a pod's creator set, also when no spot rule matches it (#19)", async () => {
    const s = await setup('Enforce');
    const forged = {
      ...CHECKPOINTED,
      'aicost.dev/cost': '0',
      'aicost.dev/accounted-until': '3000',
      'aicost.dev/wake': 'now',
    };
    const bare = {
      metadata: { name: 'p', namespace: 'ml', annotations: forged },
      spec: { containers: [{ name: 'c' }] },
    };
    const r = s.admission.review(podCreateReview(bare));
    expect(r.response.allowed).toBe(true);
    expect(decoded(r)).toEqual([
      { op: 'remove', path: '/metadata/annotations/aicost.dev~1cost' },
      { op: 'remove', path: '/metadata/annotations/aicost.dev~1accounted-until' },
    ]);
    const plain = {
      metadata: { name: 'q', namespace: 'ml', annotations: CHECKPOINTED },
      spec: { containers: [{ name: 'c' }] },
    };
    expect(s.admission.review(podCreateReview(plain)).response.patch).toBeUndefined();
    s.stop();
  });
});
