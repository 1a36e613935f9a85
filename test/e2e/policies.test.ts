/**
 * AICostPolicy on the real API server: schema and CEL reject bad policies with a message naming the field;
 * the operator scales an idle dev endpoint to zero, wakes it on demand and on schedule, suspends an idle
 * Job, leaves busy and exempt workloads alone, changes nothing in Audit mode, and acts on nothing when
 * the GPU metrics are unavailable.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cluster, kubectlFor, createTestNamespace, installPolicyCrd, runningPod, waitFor } from './support/cluster.ts';
import { OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const kubectl = kubectlFor(kubeconfig);
let ns: Awaited<ReturnType<typeof createTestNamespace>>;
const operators: OperatorProcess[] = [];
const policies: string[] = [];

beforeAll(() => {
  installPolicyCrd(kubectl);
});
beforeEach(async () => {
  ns = await createTestNamespace(client, 'pol', { 'aicost.dev/environment': 'dev' });
});
afterEach(async () => {
  await Promise.all(operators.splice(0).map((o) => o.stop('SIGKILL')));
  for (const p of policies.splice(0)) kubectl(['delete', 'acp', p, '--ignore-not-found']);
  await ns.remove();
});
afterAll(() => {
  // The CRD stays: deleting it would race other suites; the cluster is disposable.
});

function operator(extra: string[] = []): OperatorProcess {
  const op = OperatorProcess.start({
    kubeconfig,
    logDir,
    name: `${ns.name}-${operators.length}`,
    args: [
      '--prometheus-url',
      prometheusUrl || 'http://127.0.0.1:1',
      '--interval',
      '6s',
      '--annotate-interval',
      '0s',
      '--scrape-interval',
      '5s',
      '--leader-elect',
      'false',
      '--namespace',
      `${ns.name}-op`,
      ...extra,
    ],
  });
  operators.push(op);
  return op;
}

function applyPolicy(name: string, spec: unknown): void {
  // Policies are cluster-wide: each test's policy selects only its own namespace.
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'aicost.dev/v1alpha1', kind: 'AICostPolicy', metadata: { name }, spec }),
  );
  policies.push(name);
}

async function endpoint(name: string, utilization: string, annotations: Record<string, string> = {}): Promise<void> {
  await client.create(`/apis/apps/v1/namespaces/${ns.name}/deployments`, {
    metadata: { name, labels: { environment: 'dev' }, annotations },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name, environment: 'dev' },
          annotations: { 'dcgm-sim.aicost.dev/utilization': utilization },
        },
        spec: {
          nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
          containers: [
            { name: 'server', image: 'registry.local/vllm:1', resources: { limits: { 'nvidia.com/gpu': '1' } } },
          ],
        },
      },
    },
  });
  await runningPod(client, ns.name, `app=${name}`);
}

interface Workload {
  metadata: { annotations?: Record<string, string> };
  spec: { replicas?: number; suspend?: boolean };
}
const deployment = (name: string) => client.get<Workload>(`/apis/apps/v1/namespaces/${ns.name}/deployments/${name}`);
const events = async () =>
  (await client.list<{ reason: string; involvedObject: { name: string } }>(`/api/v1/namespaces/${ns.name}/events`))
    .items;
interface Policy {
  status?: {
    mode?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    actionCount?: number;
    realizedSavingsPerHour?: string;
    estimatedSavingsPerHour?: string;
    lastActions?: { workload: string; action: string }[];
  };
}
const policyStatus = async (name: string) =>
  (await client.get<Policy>(`/apis/aicost.dev/v1alpha1/aicostpolicies/${name}`)).status;
const sleepSelector = () => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } } });

describe('AICostPolicy validation by the API server', () => {
  it.each([
    ['a bad duration', { rules: { idleGPU: { idleAfter: 'ten minutes' } } }, /spec\.rules\.idleGPU\.idleAfter/],
    [
      'a threshold out of range',
      { rules: { idleGPU: { utilizationThreshold: 150 } } },
      /spec\.rules\.idleGPU\.utilizationThreshold/,
    ],
    [
      'an unknown rule field',
      { rules: { idleGPU: { shutdownAfter: '1h' } } },
      /unknown field "spec\.rules\.idleGPU\.shutdownAfter"/,
    ],
    ['an unknown mode', { mode: 'Sometimes', rules: { idleGPU: {} } }, /spec\.mode.*Unsupported value: "Sometimes"/],
    ['no rule at all', { rules: {} }, /spec\.rules.*rules must set at least one of idleGPU, scaleToZero, spot, budget/],
    [
      'conflicting spot fields',
      { rules: { spot: { placement: 'Preferred', requireCheckpoint: false, maxCheckpointInterval: '10m' } } },
      /spec\.rules\.spot.*maxCheckpointInterval needs requireCheckpoint: true/,
    ],
    [
      'a budget of zero',
      { rules: { budget: { amount: '0.00' } } },
      /spec\.rules\.budget.*amount must be more than zero/,
    ],
    [
      'a budget as a number',
      { rules: { budget: { amount: 1500 } } },
      /spec\.rules\.budget\.amount.*must be of type string/,
    ],
    ['a daily budget', { rules: { budget: { amount: '10', period: 'Daily' } } }, /spec\.rules\.budget\.period/],
    [
      'a threshold twice',
      { rules: { budget: { amount: '10', alertAt: [80, 80] } } },
      /spec\.rules\.budget\.alertAt\[1\].*Duplicate value/,
    ],
    ['a threshold of 0 %', { rules: { budget: { amount: '10', alertAt: [0] } } }, /spec\.rules\.budget\.alertAt\[0\]/],
    [
      'an unknown onExceeded action',
      { rules: { budget: { amount: '10', onExceeded: ['KillEverything'] } } },
      /spec\.rules\.budget\.onExceeded\[0\].*Unsupported value: "KillEverything"/,
    ],
    [
      'an anomaly factor of zero',
      { rules: { budget: { amount: '10', anomaly: { factor: '0' } } } },
      /spec\.rules\.budget\.anomaly.*factor must be more than zero/,
    ],
    [
      'a planned run that ends before it starts',
      {
        rules: {
          budget: {
            amount: '10',
            anomaly: { planned: [{ start: '2026-12-05T06:00:00Z', end: '2026-12-04T18:00:00Z' }] },
          },
        },
      },
      /spec\.rules\.budget\.anomaly\.planned\[0\].*end must be after start/,
    ],
    [
      'a planned run with a local time',
      {
        rules: {
          budget: { amount: '10', anomaly: { planned: [{ start: '2026-12-04 18:00', end: '2026-12-05T06:00:00Z' }] } },
        },
      },
      /spec\.rules\.budget\.anomaly\.planned\[0\]\.start/,
    ],
    [
      'a bad cron',
      { rules: { scaleToZero: { schedule: { wake: 'at eight' } } } },
      /spec\.rules\.scaleToZero\.schedule\.wake/,
    ],
  ])('rejects %s with a message naming the field', (_name, spec, message) => {
    let error = '';
    try {
      applyPolicy(`invalid-${Date.now()}`, spec);
    } catch (e) {
      error = String((e as { stderr?: string }).stderr ?? e);
    }
    expect(error).toMatch(message);
  });

  it('accepts a valid policy, fills its defaults, and lists it with its printer columns', () => {
    applyPolicy('valid-example', { ...sleepSelector(), rules: { idleGPU: {} } });
    const spec = JSON.parse(kubectl(['get', 'acp', 'valid-example', '-o', 'jsonpath={.spec}'])) as {
      mode?: string;
      rules: { idleGPU: { idleAfter: string; gracePeriod: string } };
    };
    // No server-side default for the mode: the operator's --default-mode applies, shown in status.mode.
    expect(spec.mode).toBeUndefined();
    expect(spec.rules.idleGPU).toMatchObject({ idleAfter: '1h', gracePeriod: '15m' });
    expect(kubectl(['get', 'acp', 'valid-example'])).toMatch(
      /NAME\s+MODE\s+MATCHED\s+ACTIONS\s+SPENT\s+BUDGET\s+FORECAST\s+READY\s+AGE/,
    );
  });
});

describe('AICostPolicy enforcement on the local cluster', () => {
  it('Enforce: scales an idle dev endpoint to zero, leaves busy and exempt ones alone, wakes it on demand', async () => {
    await endpoint('idle', '0');
    await endpoint('busy', '80');
    await endpoint('exempt', '0', { 'aicost.dev/exempt': 'true' });
    applyPolicy(`stz-${ns.name}`, {
      mode: 'Enforce',
      ...sleepSelector(),
      rules: { scaleToZero: { idleAfter: '15s' } },
    });
    operator();
    const asleep = await waitFor(
      async () => ((await deployment('idle')).spec.replicas === 0 ? deployment('idle') : undefined),
      { description: 'the idle endpoint to be scaled to zero', timeoutMs: 90_000 },
    );
    expect(asleep.metadata.annotations).toMatchObject({ 'aicost.dev/replicas-before': '2' });
    expect(asleep.metadata.annotations?.['aicost.dev/last-action']).toMatch(/^scaled to zero by policy stz-/);
    expect((await deployment('busy')).spec.replicas).toBe(2);
    expect((await deployment('exempt')).spec.replicas).toBe(2);
    const reasons = (await events()).filter((e) => e.involvedObject.name === 'idle').map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['GPUIdle', 'ScaledToZero']));
    expect(asleep.metadata.annotations?.['aicost.dev/cost-per-hour-before']).toBe('3.521411');
    // Asleep, the endpoint saves what its two replicas cost: 2 × 1.76070525 $/h, realized, not estimated.
    const status = await waitFor(
      async () => {
        const s = await policyStatus(`stz-${ns.name}`);
        return s?.realizedSavingsPerHour === '3.5214' ? s : undefined;
      },
      { description: 'the realized saving in status', timeoutMs: 30_000 },
    );
    expect(status.estimatedSavingsPerHour).toBe('0.0000');
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.lastActions?.[0]).toMatchObject({ workload: `Deployment/${ns.name}/idle`, action: 'scale-to-zero' });

    kubectl(['-n', ns.name, 'annotate', 'deploy', 'idle', 'aicost.dev/wake=now']);
    const awake = await waitFor(
      async () => ((await deployment('idle')).spec.replicas === 2 ? deployment('idle') : undefined),
      { description: 'the endpoint to wake', timeoutMs: 30_000 },
    );
    expect(awake.metadata.annotations?.['aicost.dev/wake']).toBeUndefined();
    expect(awake.metadata.annotations?.['aicost.dev/replicas-before']).toBeUndefined();
  });

  it('wakes a sleeping endpoint on its wake schedule', async () => {
    await endpoint('sleepy', '0');
    applyPolicy(`sched-${ns.name}`, {
      mode: 'Enforce',
      ...sleepSelector(),
      rules: { scaleToZero: { idleAfter: '10s', schedule: { wake: '* * * * *', timeZone: 'Europe/Paris' } } },
    });
    operator();
    await waitFor(async () => (await deployment('sleepy')).spec.replicas === 0, {
      description: 'the endpoint to sleep',
      timeoutMs: 90_000,
    });
    // The schedule fires every minute: the next minute after it fell asleep wakes it.
    const woken = await waitFor(
      async () => ((await deployment('sleepy')).spec.replicas === 2 ? deployment('sleepy') : undefined),
      { description: 'the schedule to wake it', timeoutMs: 90_000 },
    );
    expect(woken.metadata.annotations?.['aicost.dev/last-action']).toMatch(
      /woken by the schedule "\* \* \* \* \*" \(Europe\/Paris\)/,
    );
  });

  it('Enforce: suspends an idle Job', async () => {
    await client.create(`/apis/batch/v1/namespaces/${ns.name}/jobs`, {
      metadata: { name: 'stuck' },
      spec: {
        template: {
          metadata: { labels: { app: 'stuck' }, annotations: { 'dcgm-sim.aicost.dev/utilization': '0' } },
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
            containers: [
              { name: 't', image: 'registry.local/trainer:1', resources: { limits: { 'nvidia.com/gpu': '2' } } },
            ],
          },
        },
      },
    });
    await runningPod(client, ns.name, 'app=stuck');
    applyPolicy(`idle-${ns.name}`, {
      mode: 'Enforce',
      ...sleepSelector(),
      rules: { idleGPU: { idleAfter: '12s', gracePeriod: '6s' } },
    });
    operator();
    const job = await waitFor(
      async () => {
        const j = await client.get<Workload>(`/apis/batch/v1/namespaces/${ns.name}/jobs/stuck`);
        return j.spec.suspend ? j : undefined;
      },
      { description: 'the idle Job to be suspended', timeoutMs: 90_000 },
    );
    expect(job.metadata.annotations?.['aicost.dev/last-action']).toMatch(/^suspended by policy idle-/);
    expect(job.metadata.annotations?.['aicost.dev/cost-per-hour-before']).toBe('3.521411'); // 2 A100s of a p4d
    await waitFor(async () => (await policyStatus(`idle-${ns.name}`))?.realizedSavingsPerHour === '3.5214', {
      description: 'the suspended Job in the realized saving',
      timeoutMs: 30_000,
    });
    expect((await events()).map((e) => e.reason)).toEqual(expect.arrayContaining(['GPUIdle', 'Suspended']));
  });

  it('Audit: changes nothing and reports what Enforce would save', async () => {
    await endpoint('idle', '0');
    // No spec.mode: the operator's default (Audit) applies.
    applyPolicy(`audit-${ns.name}`, {
      ...sleepSelector(),
      rules: { scaleToZero: { idleAfter: '12s' } },
    });
    operator();
    const status = await waitFor(
      async () => {
        const s = await policyStatus(`audit-${ns.name}`);
        return (s?.actionCount ?? 0) > 0 ? s : undefined;
      },
      { description: 'an audit record', timeoutMs: 90_000 },
    );
    expect(status.lastActions?.[0]).toMatchObject({
      workload: `Deployment/${ns.name}/idle`,
      action: 'would-scale-to-zero',
    });
    // Two replicas of one A100 each on a p4d.24xlarge: 2 × 1.76070525 $/h.
    expect(status.estimatedSavingsPerHour).toBe('3.5214');
    expect((await deployment('idle')).spec.replicas).toBe(2);
    expect((await events()).map((e) => e.reason)).toContain('WouldScaleDown');
    expect(status.mode).toBe('Audit');
    expect(kubectl(['get', 'acp', `audit-${ns.name}`])).toMatch(/\sAudit\s/);
    expect(status.actionCount).toBe(1);

    // A new process resumes the idle episode from idle-since and last-action: it is not recorded again.
    await Promise.all(operators.splice(0).map((o) => o.stop('SIGKILL')));
    operator();
    await new Promise((r) => setTimeout(r, 30_000)); // past idleAfter, a few cycles
    expect((await policyStatus(`audit-${ns.name}`))?.actionCount).toBe(1);
    expect((await events()).filter((e) => e.reason === 'WouldScaleDown')).toHaveLength(1);
    expect((await deployment('idle')).metadata.annotations?.['aicost.dev/last-action']).toMatch(
      /^Audit: would be scaled to zero by policy audit-\S+ \(scaleToZero\) at /,
    );
  });

  it('acts on nothing without GPU metrics, and says so in MetricsAvailable', async () => {
    await endpoint('idle', '0');
    applyPolicy(`nometrics-${ns.name}`, {
      mode: 'Enforce',
      ...sleepSelector(),
      rules: { scaleToZero: { idleAfter: '10s' } },
    });
    operator(['--prometheus-url', 'http://127.0.0.1:1', '--prometheus-timeout', '1s']);
    const condition = await waitFor(
      async () =>
        (await policyStatus(`nometrics-${ns.name}`))?.conditions?.find(
          (c) => c.type === 'MetricsAvailable' && c.status === 'False',
        ),
      {
        description: 'MetricsAvailable=False',
        timeoutMs: 30_000,
      },
    );
    expect(condition.reason).toBe('MetricsUnavailable');
    expect(condition.message).toMatch(/Prometheus query failed.*no action is taken on unknown utilization/);
    await new Promise((r) => setTimeout(r, 25_000)); // well past idleAfter
    expect((await deployment('idle')).spec.replicas).toBe(2);
  });
});
