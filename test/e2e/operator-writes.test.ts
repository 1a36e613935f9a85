/**
 * The chart's operator-writes ValidatingAdmissionPolicy against the real kube-apiserver: a compromised operator
 * (here, a user impersonating its service account) cannot change an image, a label, a replica count on the main
 * resource or a Job's schedule, while every write the operator really makes goes through: aicost.dev/
 * annotations (with the pod's uid precondition), a Job's suspend with its annotations in one merge patch, and the
 * scale subresource. The chart's two policies are applied as the chart renders them, for a release of this test's
 * own, so no operator is installed. (KEDA's ScaledObject is left out: its CRD is not installed here.) The
 * chart's operator-events policy is tried here too: only the operator writes Events reported as its own.
 *
 * Impersonation adds the group system:masters, which passes RBAC but not admission: what is denied here, the
 * admission policy denied.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmBinary } from '../support/binaries.ts';
import { cluster, waitFor } from './support/cluster.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHART = resolve(ROOT, 'deploy/helm/aicost-operator');
const { kubeconfig } = cluster();
const SUFFIX = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const RELEASE = `writes-${SUFFIX}`;
const NS = `aicost-writes-${SUFFIX}`;
// The chart's ServiceAccount name: <release>-aicost-operator.
const OPERATOR = `system:serviceaccount:${NS}:${RELEASE}-aicost-operator`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}
const kubectl = (args: string[], input?: string, as?: string): Run => {
  const impersonate = as === undefined ? [] : [`--as=${as}`, '--as-group=system:masters'];
  const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...impersonate, ...args], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const admin = (args: string[], input?: string): string => {
  const r = kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
};
const asOperator = (...args: string[]) => kubectl(['-n', NS, ...args], undefined, OPERATOR);
const asTenant = (...args: string[]) => kubectl(['-n', NS, ...args], undefined, `tenant-${SUFFIX}`);

/** The chart's admission policies, rendered for this release. */
function policies(): string {
  const only = ['operator-writes-policy.yaml', 'operator-keys-policy.yaml', 'operator-events-policy.yaml'].flatMap(
    (t) => ['--show-only', `templates/${t}`],
  );
  const r = spawnSync(helmBinary(), ['template', RELEASE, CHART, '--namespace', NS, ...only], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return r.stdout;
}

const DENIED = 'the aicost operator may change only its aicost.dev/ annotations';
const container = (image: string) => [{ name: 'c', image }];
const template = (app: string) => ({
  metadata: { labels: { app } },
  spec: { containers: container(`registry.invalid/${app}:1`) },
});

/** Expects the operator's write to be refused by the policy, naming what else it changed. */
function expectDenied(r: Run, changes: string): void {
  expect(r.status, r.stdout).not.toBe(0);
  expect(r.stderr).toContain(DENIED);
  expect(r.stderr).toContain(changes);
}

function expectAllowed(r: Run): void {
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(async () => {
  admin(['create', 'namespace', NS]);
  admin(['apply', '-f', '-'], policies());
  const objects = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'llm', namespace: NS, labels: { app: 'llm' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'llm' } }, template: template('llm') },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: NS },
      spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db') },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train', namespace: NS },
      spec: {
        suspend: false,
        template: { spec: { containers: container('registry.invalid/train:1'), restartPolicy: 'Never' } },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'notebook', namespace: NS, labels: { app: 'notebook' } },
      spec: { containers: container('registry.invalid/notebook:1') },
    },
  ];
  admin(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  // The API server loads a new policy within a few seconds: until it denies, its absence would pass every write.
  await waitFor(
    () => {
      const r = asOperator('set', 'image', 'deployment/llm', 'c=registry.invalid/evil:1', '--dry-run=server');
      return r.status !== 0 && r.stderr.includes(DENIED);
    },
    { description: 'the operator-writes policy to be enforced', timeoutMs: 60_000, intervalMs: 1000 },
  );
});

afterAll(() => {
  kubectl(['delete', '-f', '-', '--ignore-not-found'], policies());
  kubectl(['delete', 'namespace', NS, '--wait=false', '--ignore-not-found']);
});

describe("operator-writes policy: what the operator's service account may change", () => {
  it('Deployments and StatefulSets: no image, label, other annotation or replicas on the main resource', () => {
    expectDenied(asOperator('set', 'image', 'deployment/llm', 'c=registry.invalid/evil:1'), 'spec.template');
    expectDenied(asOperator('label', 'deployment/llm', 'evil=1'), 'metadata.labels');
    expectDenied(asOperator('annotate', 'deployment/llm', 'team=other'), 'metadata.annotations[team]');
    expectDenied(
      asOperator('patch', 'deployment/llm', '--type=merge', '-p', '{"spec":{"replicas":5}}'),
      'spec.replicas',
    );
    // An allowed change does not carry a forbidden one through.
    expectDenied(
      asOperator(
        'patch',
        'deployment/llm',
        '--type=merge',
        '-p',
        JSON.stringify({
          metadata: { annotations: { 'aicost.dev/cost': '0' } },
          spec: { template: { spec: { containers: container('registry.invalid/evil:1') } } },
        }),
      ),
      'spec.template',
    );
    expectDenied(asOperator('set', 'image', 'statefulset/db', 'c=registry.invalid/evil:1'), 'spec.template');
    const image = admin([
      'get',
      'deployment/llm',
      '-n',
      NS,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image}',
    ]);
    expect(image).toBe('registry.invalid/llm:1');
  });

  it('Deployments and StatefulSets: its annotations and the scale subresource go through', () => {
    // The annotation writer's and the executor's merge patches.
    expectAllowed(
      asOperator(
        'patch',
        'deployment/llm',
        '--type=merge',
        '-p',
        '{"metadata":{"annotations":{"aicost.dev/cost":"1.500000","aicost.dev/replicas-before":"1"}}}',
      ),
    );
    expectAllowed(asOperator('annotate', 'deployment/llm', 'aicost.dev/replicas-before-')); // removal
    expectAllowed(asOperator('scale', 'deployment/llm', '--replicas=0'));
    expectAllowed(asOperator('scale', 'statefulset/db', '--replicas=0'));
    expectAllowed(asOperator('annotate', 'statefulset/db', 'aicost.dev/idle-since=2026-01-01T00:00:00Z'));
    expect(admin(['get', 'deployment/llm', '-n', NS, '-o', 'jsonpath={.spec.replicas}'])).toBe('0');
  });

  it('Jobs: suspend (to true) with its annotations; never resumed, never another field', () => {
    expectDenied(
      asOperator('patch', 'job/train', '--type=merge', '-p', '{"spec":{"activeDeadlineSeconds":1}}'),
      'spec.activeDeadlineSeconds',
    );
    // Exactly the executor's suspend-job body.
    expectAllowed(
      asOperator(
        'patch',
        'job/train',
        '--type=merge',
        '-p',
        '{"metadata":{"annotations":{"aicost.dev/last-action":"suspended"}},"spec":{"suspend":true}}',
      ),
    );
    expect(admin(['get', 'job/train', '-n', NS, '-o', 'jsonpath={.spec.suspend}'])).toBe('true');
    expectDenied(asOperator('patch', 'job/train', '--type=merge', '-p', '{"spec":{"suspend":false}}'), 'spec.suspend');
  });

  it('Pods and Namespaces: annotations (with the uid precondition) only', () => {
    const uid = admin(['get', 'pod/notebook', '-n', NS, '-o', 'jsonpath={.metadata.uid}']);
    expectAllowed(
      asOperator(
        'patch',
        'pod/notebook',
        '--type=merge',
        '-p',
        JSON.stringify({ metadata: { uid, annotations: { 'aicost.dev/cost': '0.250000' } } }),
      ),
    );
    expectDenied(asOperator('set', 'image', 'pod/notebook', 'c=registry.invalid/evil:1'), 'spec.containers');
    expectDenied(asOperator('label', 'pod/notebook', 'app=other', '--overwrite'), 'metadata.labels');
    expectAllowed(kubectl(['annotate', 'namespace', NS, 'aicost.dev/cost=2.000000'], undefined, OPERATOR));
    expectDenied(
      kubectl(['label', 'namespace', NS, 'pod-security.kubernetes.io/enforce=privileged'], undefined, OPERATOR),
      'metadata.labels',
    );
  });

  it('binds only the operator: anyone else changes images as RBAC allows', () => {
    expectAllowed(asTenant('set', 'image', 'deployment/llm', 'c=registry.invalid/llm:2'));
    expectAllowed(asTenant('patch', 'job/train', '--type=merge', '-p', '{"spec":{"suspend":false}}'));
  });
});

const EVENTS_DENIED = 'Events reported as aicost-operator are the operator';
const coreEvent = (name: string, component: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: NS },
    involvedObject: { apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name: 'train' },
    reason: 'BudgetDenied',
    message: 'aicost budget team-a refused a new GPU pod of Job train',
    type: 'Warning',
    count: 1,
    source: { component },
    reportingComponent: component,
    reportingInstance: component,
  });
const asTenantWith = (input: string, ...args: string[]) => kubectl(['-n', NS, ...args], input, `tenant-${SUFFIX}`);

describe("operator-events policy: the operator's Events are its own", () => {
  it('a tenant cannot create, change or delete an Event reported as the operator; its own Events pass', async () => {
    // Loaded with the others, but each policy is loaded on its own: wait until this one denies.
    await waitFor(
      () => {
        const r = asTenantWith(
          coreEvent(`probe-${Date.now()}`, 'aicost-operator'),
          'create',
          '--dry-run=server',
          '-f',
          '-',
        );
        return r.status !== 0 && r.stderr.includes(EVENTS_DENIED);
      },
      { description: 'the operator-events policy to be enforced', timeoutMs: 60_000, intervalMs: 1000 },
    );
    const forged = asTenantWith(coreEvent('forged', 'aicost-operator'), 'create', '-f', '-');
    expect(forged.status).not.toBe(0);
    expect(forged.stderr).toContain(EVENTS_DENIED);
    // events.k8s.io/v1 names the component reportingController.
    const v1 = JSON.stringify({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'forged-v1', namespace: NS },
      // A MicroTime: six fractional digits.
      eventTime: new Date().toISOString().replace(/\.\d+Z$/, '.000000Z'),
      regarding: { apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name: 'train' },
      reason: 'SpotDenied',
      action: 'Denied',
      note: 'forged',
      type: 'Warning',
      reportingController: 'aicost-operator',
      reportingInstance: 'aicost-operator',
    });
    const forgedV1 = asTenantWith(v1, 'create', '-f', '-');
    expect(forgedV1.status).not.toBe(0);
    expect(forgedV1.stderr).toContain(EVENTS_DENIED);
    // A tenant's own Events are its business.
    expectAllowed(asTenantWith(coreEvent('own', 'team-a-ci'), 'create', '-f', '-'));

    // The operator's Event: created by its service account, then left alone by the tenant.
    expectAllowed(kubectl(['-n', NS, 'create', '-f', '-'], coreEvent('real', 'aicost-operator'), OPERATOR));
    const edit = asTenant('patch', 'event/real', '--type=merge', '-p', '{"count":7}');
    expect(edit.status).not.toBe(0);
    expect(edit.stderr).toContain(EVENTS_DENIED);
    // Nor renamed out of the operator's component to be edited freely.
    const disown = asTenant(
      'patch',
      'event/real',
      '--type=merge',
      '-p',
      '{"reportingComponent":"x","source":{"component":"x"}}',
    );
    expect(disown.status).not.toBe(0);
    const remove = asTenant('delete', 'event/real');
    expect(remove.status).not.toBe(0);
    expect(remove.stderr).toContain(EVENTS_DENIED);
    expect(admin(['-n', NS, 'get', 'event/real', '-o', 'jsonpath={.count}'])).toBe('1');
    expectAllowed(kubectl(['-n', NS, 'patch', 'event/real', '--type=merge', '-p', '{"count":2}'], undefined, OPERATOR));
  });
});
