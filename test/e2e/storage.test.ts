/**
 * Issue #18's storage acceptance run on the local cluster (its volume binder gives every claim of the default class
 * `local-binder` a volume): a Job whose pod mounts a PersistentVolumeClaim, then the Job deleted while the claim
 * stays. The claim is priced (by the pricing file's `storageClasses`), billed to the Job while its pod runs and to
 * the namespace's unattached row after, and the two add up to the hand computation: price × size × the seconds
 * since the claim was created, up to the ledger's accounted-until (within one cycle: the cycle that sees the claim
 * bound bills it from its creation, a second or two before).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageCost } from '../../src/cost/storage-plan.ts';
import { parseMoney } from '../../src/cost/money.ts';
import { cluster, createTestNamespace, runningPod, waitFor, type TestNamespace } from './support/cluster.ts';
import { readLedger } from './support/hand-cost.ts';
import { OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const INTERVAL_S = 2;
/** A dear price, so that a few seconds cost a visible amount: 7.3 per GiB-month is 0.01 per GiB-hour. */
const PRICE = '7.3';
const BYTES = 10 * 2 ** 30;
/** One cycle of the claim: the most the first cycle may bill of the seconds before the claim was bound. */
const CYCLE_NANOS = storageCost(parseMoney(PRICE), BYTES, INTERVAL_S);

let ns: TestNamespace;
let dir = '';
let op: OperatorProcess | undefined;
beforeAll(async () => {
  ns = await createTestNamespace('storage', { labels: { team: 'research' } });
  dir = mkdtempSync(join(tmpdir(), 'aicost-storage-e2e-'));
});
afterAll(async () => {
  await op?.stop('SIGKILL');
  await ns.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('storage on the local cluster (issue #18)', { timeout: 180_000 }, () => {
  it('bills a claim to the Job that mounts it, and to its namespace after the Job ends, as by hand', async () => {
    const pricing = join(dir, 'pricing.yaml');
    writeFileSync(pricing, `storageClasses:\n  local-binder: "${PRICE}"\n`);
    const ledger = join(dir, 'ledger');
    const clusterId = `storage-${ns.name}`.slice(0, 60);

    // 1. The operator first, so that its cycles cover the claim from its creation.
    op = OperatorProcess.start({
      kubeconfig,
      logDir,
      name: `${ns.name}-storage`,
      args: [
        ...['--prometheus-url', prometheusUrl || 'http://127.0.0.1:1', '--scrape-interval', '5s'],
        ...['--interval', `${INTERVAL_S}s`, '--annotate-interval', '0s', '--pricing-file', pricing],
        ...['--ledger', ledger, '--cluster-id', clusterId, '--ledger-flush-interval', '0s'],
      ],
    });
    await waitFor(async () => (await readLedger(ledger, clusterId).catch(() => new Map())).size > 0, {
      description: 'the operator writing its ledger',
      timeoutMs: 60_000,
    });

    // 2. A claim of the default class: the binder's volume binds it.
    await client.create(`/api/v1/namespaces/${ns.name}/persistentvolumeclaims`, {
      metadata: { name: 'ckpt' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
    });
    const bound = await waitFor(
      async () => {
        const c = await client.get<{ metadata: { creationTimestamp: string }; status?: { phase?: string } }>(
          `/api/v1/namespaces/${ns.name}/persistentvolumeclaims/ckpt`,
        );
        return c.status?.phase === 'Bound' ? c : undefined;
      },
      { description: 'the claim bound by the local volume binder', timeoutMs: 30_000 },
    );
    const createdS = Date.parse(bound.metadata.creationTimestamp) / 1000;

    // 3. A Job whose pod mounts the claim; the pod schedules once the claim is bound.
    await client.create(`/apis/batch/v1/namespaces/${ns.name}/jobs`, {
      metadata: { name: 'prep' },
      spec: {
        template: {
          metadata: { labels: { app: 'prep' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              { name: 'main', image: 'registry.local/prep:1', volumeMounts: [{ name: 'out', mountPath: '/out' }] },
            ],
            volumes: [{ name: 'out', persistentVolumeClaim: { claimName: 'ckpt' } }],
          },
        },
      },
    });
    await runningPod(client, ns.name, 'app=prep');
    const ids = { job: `Job/${ns.name}/prep`, claim: `PersistentVolumeClaim/${ns.name}/ckpt` };
    await waitFor(async () => ((await readLedger(ledger, clusterId)).get(ids.job)?.closing.storageCost ?? 0n) > 0n, {
      description: 'the Job billed for the claim it mounts',
      timeoutMs: 30_000,
    });

    // 4. The Job ends (deleted with its pod); the claim stays and is billed to the namespace from then on.
    await client.delete(`/apis/batch/v1/namespaces/${ns.name}/jobs/prep?propagationPolicy=Background`);
    const afterJob = await waitFor(
      async () => {
        const targets = await readLedger(ledger, clusterId);
        const claim = targets.get(ids.claim)?.closing;
        return claim && (claim.storageCost ?? 0n) > 4n * CYCLE_NANOS ? targets : undefined;
      },
      { description: 'the claim billed to its namespace after the Job', timeoutMs: 60_000 },
    );

    // 5. Job share + unattached share = price × size × the seconds the claim was accounted, to one cycle.
    const job = afterJob.get(ids.job)?.closing;
    const claim = afterJob.get(ids.claim)?.closing;
    expect(job?.cost ?? 0n).toBeGreaterThanOrEqual(0n);
    const untilS = Math.max(job?.accountedUntil ?? 0, claim?.accountedUntil ?? 0);
    const hand = storageCost(parseMoney(PRICE), BYTES, Math.round(untilS - createdS));
    const billed = (job?.storageCost ?? 0n) + (claim?.storageCost ?? 0n);
    const off = billed > hand ? billed - hand : hand - billed;
    expect(off <= CYCLE_NANOS + 1000n, `billed ${billed}, by hand ${hand}`).toBe(true);
  });
});
