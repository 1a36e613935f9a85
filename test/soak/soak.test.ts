/**
 * `npm run soak` (issue #19; not in CI): the operator through an hour of churn at a 2 s interval on the local
 * cluster (or KUBECONFIG's, as the e2e tests), to show flat memory and nothing lost. AICOST_SOAK_MINUTES sets
 * the length (60 by default).
 *
 * The churn, in one namespace: two anchor Jobs run throughout (1 GPU each); a new 1-GPU Job starts every 10 s
 * and each is deleted 40 s later; a GPU Deployment is scaled between 1 and 3 replicas every minute, its
 * labels changed and one of its pods deleted; a policy with a scaleToZero rule in Audit and a budget matches it
 * all. The operator's RSS is read from /proc every 15 s.
 *
 * Checked at the end, after a SIGTERM (the operator writes what it holds and exits 0):
 * - memory: the median RSS of the last quarter of the run is within 15 % (plus 5 MB) of the second quarter's
 *   (the first is warm-up);
 * - nothing lost, nothing counted twice: each anchor Job's ledger cost is the hand computation; each churned
 *   Job is in the ledger, its cost between its GPU price times the seconds from its pod's start to its deletion
 *   request (less an interval and a second) and to 30 s after it.
 * The figures are printed and written to .aicost/soak/result.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import {
  cluster,
  createTestNamespace,
  installPolicyCrd,
  kubectlFor,
  type TestNamespace,
} from '../e2e/support/cluster.ts';
import {
  gpuDeployment,
  gpuJob,
  handNanos,
  LEDGER_TOLERANCE_NANOS,
  readLedger,
  type Held,
} from '../e2e/support/hand-cost.ts';
import { OperatorProcess } from '../e2e/support/operator.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MINUTES = Number(process.env.AICOST_SOAK_MINUTES ?? '60');
const INTERVAL_S = 2;
const SAMPLE_MS = 15_000;
const CHURN_EVERY_MS = 10_000;
const JOB_LIFETIME_MS = 40_000;
const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const kubectl = kubectlFor(kubeconfig);

let ns: TestNamespace | undefined;
let op: OperatorProcess | undefined;
const ledgerDir = mkdtempSync(join(tmpdir(), 'aicost-soak-'));

afterAll(async () => {
  await op?.stop('SIGKILL');
  kubectl(['delete', 'acp', `soak-${ns?.name ?? ''}`, '--ignore-not-found']);
  await ns?.remove();
  rmSync(ledgerDir, { recursive: true, force: true });
});

function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface Churned extends Held {
  readonly name: string;
  deleteRequestedS?: number;
}

it(
  `soaks the operator for ${MINUTES} minutes of churn: flat memory, nothing lost`,
  { timeout: (MINUTES + 15) * 60_000 },
  async () => {
    installPolicyCrd(kubectl);
    const namespace = await createTestNamespace(client, 'soak');
    ns = namespace;
    const clusterId = `soak-${Date.now().toString(36)}`;
    const anchors = [
      await gpuJob(client, namespace.name, 'anchor-0', { gpus: 1, utilization: '80' }),
      await gpuJob(client, namespace.name, 'anchor-1', { gpus: 1, utilization: '20' }),
    ];
    await gpuDeployment(client, namespace.name, 'web', { gpus: 1, utilization: '5', labels: { env: 'dev' } });
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'aicost.dev/v1alpha1',
        kind: 'AICostPolicy',
        metadata: { name: `soak-${namespace.name}` },
        spec: {
          mode: 'Audit',
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace.name } },
          rules: { scaleToZero: { idleAfter: '5m' }, budget: { amount: '1000.00' } },
        },
      }),
    );
    op = OperatorProcess.start({
      kubeconfig,
      logDir,
      name: clusterId,
      args: [
        ...['--prometheus-url', prometheusUrl || 'http://127.0.0.1:1', '--scrape-interval', '5s'],
        ...['--interval', `${INTERVAL_S}s`, '--annotate-interval', '0s', '--leader-elect', 'false'],
        ...['--namespace', `${namespace.name}-op`, '--cluster-id', clusterId],
        ...['--ledger', join(ledgerDir, 'ledger'), '--ledger-flush-interval', '0s', '--ledger-window', '5m'],
      ],
    });
    const startedMs = Date.now();
    const endMs = startedMs + MINUTES * 60_000;
    const samples: { atS: number; rssMb: number }[] = [];
    const churned: Churned[] = [];
    let next = 0;
    let lastSample = 0;
    let lastMinute = 0;
    while (Date.now() < endMs) {
      const now = Date.now();
      if (now - lastSample >= SAMPLE_MS) {
        lastSample = now;
        const rss = rssMb(op.pid);
        if (rss !== undefined) samples.push({ atS: Math.round((now - startedMs) / 1000), rssMb: rss });
        expect(op.running, `the operator exited; log: ${op.logFile}`).toBe(true);
      }
      // A Job a tick; each deleted once 40 s old (in the background: the pod takes a moment to end).
      churned.push({
        name: `churn-${next}`,
        ...(await gpuJob(client, namespace.name, `churn-${next}`, { gpus: 1, utilization: '50' })),
      });
      next += 1;
      for (const j of churned)
        if (j.deleteRequestedS === undefined && (now / 1000 - j.startedS) * 1000 >= JOB_LIFETIME_MS) {
          j.deleteRequestedS = Date.now() / 1000;
          kubectl(['delete', 'job', '-n', namespace.name, j.name, '--wait=false', '--cascade=foreground']);
        }
      if (now - lastMinute >= 60_000) {
        lastMinute = now;
        const round = Math.floor((now - startedMs) / 60_000);
        kubectl(['scale', 'deployment', '-n', namespace.name, 'web', `--replicas=${String(1 + (round % 3))}`]);
        kubectl(['label', 'deployment', '-n', namespace.name, 'web', `round=r${String(round)}`, '--overwrite']);
        kubectl([
          'delete',
          'pod',
          '-n',
          namespace.name,
          '-l',
          'app=web',
          '--wait=false',
          '--field-selector=status.phase=Running',
        ]);
      }
      await sleep(Math.max(0, CHURN_EVERY_MS - (Date.now() - now)));
    }
    const stoppedS = Date.now() / 1000;
    expect(await op.stop('SIGTERM'), `the operator's exit code; log: ${op.logFile}`).toBe(0);

    // Memory: the second quarter against the last.
    const quarter = (q: number) =>
      samples
        .filter((s) => s.atS >= (q * MINUTES * 60) / 4 && s.atS < ((q + 1) * MINUTES * 60) / 4)
        .map((s) => s.rssMb);
    const [q2, q4] = [median(quarter(1)), median(quarter(3))];
    const peak = Math.max(...samples.map((s) => s.rssMb));

    // Ledger: anchors exact, churned Jobs within their bounds.
    const ledger = await readLedger(join(ledgerDir, 'ledger'), clusterId);
    const problems: string[] = [];
    for (const [i, a] of anchors.entries()) {
      const closing = ledger.get(`Job/${namespace.name}/anchor-${i}`)?.closing;
      if (!closing) {
        problems.push(`anchor-${i}: not in the ledger`);
        continue;
      }
      const diff = closing.cost - handNanos(a, closing.accountedUntil);
      if ((diff < 0n ? -diff : diff) > LEDGER_TOLERANCE_NANOS)
        problems.push(`anchor-${i}: ledger ${closing.cost} vs hand ${handNanos(a, closing.accountedUntil)} nanos`);
      if (closing.accountedUntil < Math.floor(stoppedS) - INTERVAL_S - 2)
        problems.push(`anchor-${i}: accounted only until ${closing.accountedUntil}, stopped at ${stoppedS}`);
    }
    let checkedChurn = 0;
    for (const j of churned) {
      if (j.deleteRequestedS === undefined) continue;
      const closing = ledger.get(`Job/${namespace.name}/${j.name}`)?.closing;
      if (!closing) {
        problems.push(`${j.name}: not in the ledger`);
        continue;
      }
      const low = handNanos(j, j.deleteRequestedS - INTERVAL_S - 1);
      const high = handNanos(j, j.deleteRequestedS + 30);
      if (closing.cost < low || closing.cost > high)
        problems.push(`${j.name}: ledger ${closing.cost} nanos, expected ${low}..${high}`);
      checkedChurn += 1;
    }
    const result = {
      minutes: MINUTES,
      intervalS: INTERVAL_S,
      jobsChurned: churned.length,
      jobsChecked: checkedChurn,
      rssMb: { secondQuarterMedian: q2, lastQuarterMedian: q4, peak, samples: samples.length },
      problems,
    };
    mkdirSync(join(ROOT, '.aicost/soak'), { recursive: true });
    writeFileSync(join(ROOT, '.aicost/soak/result.json'), `${JSON.stringify({ ...result, samples }, null, 2)}\n`);
    console.log(`soak: ${JSON.stringify(result)}`);
    expect(problems).toEqual([]);
    expect(checkedChurn).toBeGreaterThan(0);
    expect(
      q4,
      `RSS median of the last quarter ${q4.toFixed(1)} MB vs the second ${q2.toFixed(1)} MB`,
    ).toBeLessThanOrEqual(q2 * 1.15 + 5);
  },
);
