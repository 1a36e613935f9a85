/**
 * Budgets that act, on the local cluster (issue #16), in numbered steps:
 *
 * 1. Two namespaces, each with a dev endpoint (`chat`, which a scaleToZero rule governs) and a production one
 *    (`serve`, which none does), one GPU of a p4d.24xlarge each (kwok): together about 0.001 $ a second. Each
 *    has a budget of 0.02 $ with `onExceeded: [DenyNewGPUPods, ScaleDevToZero]`: Enforce in one, Audit in the
 *    other. One operator (2 s cycles) serves the admission webhook, which the API server calls for both.
 * 2. Both budgets are exceeded within a minute: status.budget.exceededAt.
 * 3. Enforce: the dev endpoint sleeps (its Event names the budget), production keeps running, and a
 *    deleted production pod is replaced (its Deployment existed before the budget was exceeded); a new GPU
 *    pod is refused with a message naming the budget and who to ask; with aicost.dev/budget-override on the
 *    namespace it is admitted, and an Event records it.
 * 4. Audit: nothing sleeps and nothing is refused; the would-be sleep and refusal are reported (an Event, an
 *    admission warning, the metric with counts), and each new GPU pod is told its price per hour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyStatus } from '../../src/crds/aicost-policy.ts';
import {
  cluster,
  createTestNamespace,
  installPolicyCrd,
  kubectlFor,
  podsOf,
  waitFor,
  type TestNamespace,
} from './support/cluster.ts';
import { metricValue, type OperatorProcess } from './support/operator.ts';
import { kubectlRunner, registerWebhook, SKIP_WEBHOOK, startWebhookOperator } from './support/webhook.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const kubectl = kubectlFor(kubeconfig);
const kubectlRun = kubectlRunner(kubeconfig);
const POLICIES = '/apis/aicost.dev/v1alpha1/aicostpolicies';
const CONTACT = '#ml-platform on Slack';
const suite = `budget-act-${Date.now().toString(36)}`;

let enforce: TestNamespace;
let audit: TestNamespace;
let op: OperatorProcess | undefined;
const policies: string[] = [];
const ledgerDir = mkdtempSync(join(tmpdir(), 'aicost-budget-act-'));

const gpuPodSpec = () => ({
  nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
  containers: [{ name: 'main', image: 'registry.local/llm:1', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
});

function deployment(ns: string, name: string, env: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { env } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, env }, annotations: { 'dcgm-sim.aicost.dev/utilization': '90' } },
        spec: gpuPodSpec(),
      },
    },
  };
}

const barePod = (name: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: gpuPodSpec() });

function apply(object: unknown): void {
  kubectl(['apply', '-f', '-'], JSON.stringify(object));
}

function policiesFor(ns: string, mode: 'Audit' | 'Enforce'): void {
  const inNamespace = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } };
  apply({
    apiVersion: 'aicost.dev/v1alpha1',
    kind: 'AICostPolicy',
    metadata: { name: `${ns}-dev` },
    spec: { ...inNamespace, selector: { matchLabels: { env: 'dev' } }, rules: { scaleToZero: { idleAfter: '1h' } } },
  });
  apply({
    apiVersion: 'aicost.dev/v1alpha1',
    kind: 'AICostPolicy',
    metadata: { name: ns },
    spec: {
      ...inNamespace,
      rules: {
        budget: { amount: '0.02', mode, onExceeded: ['DenyNewGPUPods', 'ScaleDevToZero'], contact: CONTACT },
      },
    },
  });
  policies.push(`${ns}-dev`, ns);
}

const budgetOf = async (name: string) =>
  (await client.get<{ status?: PolicyStatus }>(`${POLICIES}/${name}`)).status?.budget;
const replicas = async (ns: string, name: string) =>
  (await client.get<{ spec: { replicas: number } }>(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`)).spec
    .replicas;

/** The Events in `ns` with `reason`, as their messages. */
async function events(ns: string, reason: string): Promise<string[]> {
  type Event = { reason: string; message: string; count?: number };
  const items = (await client.list<Event>(`/api/v1/namespaces/${ns}/events`)).items;
  return items.filter((e) => e.reason === reason).map((e) => e.message);
}

beforeAll(async () => {
  if (SKIP_WEBHOOK) return;
  installPolicyCrd(kubectl);
  enforce = await createTestNamespace(client, 'budget-enforce', { 'aicost-e2e/suite': suite });
  audit = await createTestNamespace(client, 'budget-audit', { 'aicost-e2e/suite': suite });
  for (const ns of [enforce.name, audit.name]) {
    apply(deployment(ns, 'chat', 'dev'));
    apply(deployment(ns, 'serve', 'prod'));
  }
  for (const ns of [enforce.name, audit.name])
    for (const app of ['chat', 'serve'])
      await waitFor(async () => (await podsOf(client, ns, `app=${app}`)).some((p) => p.status.phase === 'Running'), {
        description: `${ns}/${app} to run`,
        timeoutMs: 60_000,
      });
  policiesFor(enforce.name, 'Enforce');
  policiesFor(audit.name, 'Audit');
  const webhook = await startWebhookOperator({
    kubeconfig,
    logDir,
    name: suite,
    args: [
      ...['--prometheus-url', prometheusUrl || 'http://127.0.0.1:1', '--scrape-interval', '5s'],
      ...['--interval', '2s', '--annotate-interval', '0s', '--leader-elect', 'false', '--namespace', `${suite}-op`],
      ...['--ledger', join(ledgerDir, 'ledger'), '--ledger-flush-interval', '0s', '--ledger-window', '1m'],
    ],
  });
  op = webhook.op;
  await waitFor(() => op?.logs().some((l) => l.msg === 'caches started'), { description: 'the operator caches' });
  registerWebhook(kubectl, suite, webhook, { matchLabels: { 'aicost-e2e/suite': suite } });
}, 180_000);

afterAll(async () => {
  if (SKIP_WEBHOOK) return;
  kubectlRun(['delete', 'mutatingwebhookconfiguration', suite, '--ignore-not-found']);
  for (const p of policies.splice(0)) kubectlRun(['delete', 'acp', p, '--ignore-not-found']);
  await op?.stop('SIGKILL');
  await enforce.remove();
  await audit.remove();
  rmSync(ledgerDir, { recursive: true, force: true });
});

describe.skipIf(SKIP_WEBHOOK)('budgets that act', () => {
  it('exceeds both budgets within a minute', async () => {
    for (const ns of [enforce.name, audit.name])
      await waitFor(async () => (await budgetOf(ns))?.exceededAt, {
        description: `the budget of ${ns} to be exceeded`,
        timeoutMs: 120_000,
      });
  });

  it('Enforce: the dev endpoint sleeps, production runs on and its pods are replaced', async () => {
    const ns = enforce.name;
    await waitFor(async () => (await replicas(ns, 'chat')) === 0, { description: 'chat to sleep', timeoutMs: 30_000 });
    const slept = await waitFor(async () => (await events(ns, 'ScaledToZero')).join('\n') || undefined, {
      description: 'the ScaledToZero Event',
      timeoutMs: 10_000,
    });
    expect(slept).toContain(`budget ${ns} exceeded`);
    expect(slept).toContain('onExceeded: ScaleDevToZero');
    expect(await replicas(ns, 'serve')).toBe(1);
    // A production pod deleted: its Deployment existed before the budget was exceeded, so the new one is admitted.
    const [old] = await podsOf(client, ns, 'app=serve');
    kubectl(['delete', 'pod', '-n', ns, old?.metadata.name ?? '', '--wait=false']);
    await waitFor(
      async () =>
        (await podsOf(client, ns, 'app=serve')).some(
          (p) => p.metadata.name !== old?.metadata.name && p.status.phase === 'Running',
        ),
      { description: 'a replacement production pod', timeoutMs: 60_000 },
    );
  });

  it('Enforce: a new GPU pod is refused, naming the budget and who to ask, until the namespace overrides', async () => {
    const ns = enforce.name;
    const refused = kubectlRun(['create', '-n', ns, '-f', '-'], barePod('new-run'));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(ns);
    expect(refused.stderr).toContain(CONTACT);
    expect(refused.stderr).toContain('aicost.dev/budget-override');
    kubectl(['annotate', 'namespace', ns, 'aicost.dev/budget-override=incident 42, approved by the platform team']);
    const admitted = await waitFor(
      () => {
        const r = kubectlRun(['create', '-n', ns, '-f', '-'], barePod('urgent-run'));
        return r.status === 0 ? r : undefined;
      },
      { description: 'the override to let the pod through', timeoutMs: 30_000, intervalMs: 1000 },
    );
    expect(admitted.stdout).toContain('urgent-run');
    const overridden = await waitFor(async () => (await events(ns, 'BudgetOverridden')).join('\n') || undefined, {
      description: 'the BudgetOverridden Event',
      timeoutMs: 10_000,
    });
    expect(overridden).toContain('incident 42');
  });

  it('Audit: nothing sleeps and nothing is refused; the would-be actions are reported with counts', async () => {
    const ns = audit.name;
    const wouldSleep = await waitFor(async () => (await events(ns, 'WouldScaleDown')).join('\n') || undefined, {
      description: 'the WouldScaleDown Event',
      timeoutMs: 30_000,
    });
    expect(wouldSleep).toContain(`budget ${ns} exceeded`);
    expect(await replicas(ns, 'chat')).toBe(1);
    for (const name of ['audit-run-1', 'audit-run-2']) {
      const r = kubectlRun(['create', '-n', ns, '-f', '-'], barePod(name));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/Warning: .*would/);
      // The price before launch: one GPU of a p4d (1.76070525 $/GPU-h, docs/cost-model.md), on-demand only here.
      expect(r.stderr).toMatch(/Warning: aicost: about 1\.76 USD\/h on p4d\.24xlarge \(on-demand\)/);
    }
    await waitFor(async () => (await events(ns, 'BudgetWouldDeny')).length > 0, {
      description: 'the BudgetWouldDeny Event',
      timeoutMs: 10_000,
    });
    if (!op) throw new Error('no operator');
    const counted = metricValue(await op.metrics(), 'aicost_budget_admissions_total', {
      policy: ns,
      verdict: 'would_deny',
    });
    expect(counted).toBe(2);
  });
});
