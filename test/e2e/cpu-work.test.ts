/**
 * Issue #18's CPU-side AI work on the local cluster: a CPU preprocessing Job on a CPU-only m6i.2xlarge node and
 * a GPU training Job on a p4d.24xlarge, both labelled with one experiment. Every node is accounted (no
 * --account-nodes), so `aicost report --by experiment` is the sum of both Jobs, which is their hand computation:
 *
 * - training: 1 GPU × the p4d's GPU part, 1.76070525 $ per GPU-hour (docs/cost-model.md), from its pod's start;
 * - preprocessing: 2 of the node's 8 vCPU and 8 of its 32 GiB of an m6i.2xlarge at the pricing file's explicit
 *   0.3872 $/h, split into CPU 0.2528 and memory 0.1344 (a CPU-only node's parts in proportion to their values):
 *   0.0632 + 0.0336 = 0.0968 $/h, from its pod's start.
 *
 * `--by experiment,compute` shows the two apart: the training Job is gpu, the preprocessing Job cpu.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMoney, type Nanos } from '../../src/cost/money.ts';
import { cluster, createTestNamespace, runningPod, waitFor, type TestNamespace } from './support/cluster.ts';
import { gpuJob, handNanos, LEDGER_TOLERANCE_NANOS, readLedger, type Held } from './support/hand-cost.ts';
import { OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const MAIN = resolve(import.meta.dirname, '../../src/main.ts');

/** The preprocessing pod's share of the m6i.2xlarge per hour: 0.0968 $ (above), in nano-dollars. */
const PREP_HOUR_NANOS = 96_800_000n;

/** Explicit prices, so that the hand computation needs no catalog: the CPU node's, and the resource rates. */
const PRICING = `
currency: USD
instanceTypes:
  - { instanceType: m6i.2xlarge, pricePerHour: "0.3872" }
resources:
  pricePerVcpuHour: "0.0316"
  pricePerGiBHour: "0.0042"
`;

let dir = '';
let namespace: TestNamespace | undefined;
let operator: OperatorProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicost-cpu-work-e2e-'));
});
afterAll(async () => {
  await operator?.stop('SIGKILL');
  await namespace?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A Job whose one pod (app=<name>) asks 2 vCPU and 8 GiB on an m6i.2xlarge and runs until deleted. */
async function cpuJob(ns: string, name: string, labels: Record<string, string>): Promise<Held> {
  await client.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
    metadata: { name, labels },
    spec: {
      template: {
        metadata: { labels: { app: name, ...labels } },
        spec: {
          restartPolicy: 'Never',
          nodeSelector: { 'node.kubernetes.io/instance-type': 'm6i.2xlarge' },
          containers: [
            { name: 'main', image: 'registry.local/etl:1', resources: { requests: { cpu: '2', memory: '8Gi' } } },
          ],
        },
      },
    },
  });
  const pod = await runningPod(client, ns, `app=${name}`);
  return { gpus: 0, startedS: Date.parse(pod.status.startTime ?? '') / 1000 };
}

/** The preprocessing pod's cost by hand, from its start to `untilS`, in nano-dollars. */
function prepNanos(h: Held, untilS: number): Nanos {
  return (PREP_HOUR_NANOS * BigInt(Math.round((untilS - h.startedS) * 1000))) / 3_600_000n;
}

function aicost(args: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`aicost ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

describe('CPU-side AI work on CPU-only nodes', () => {
  it('a CPU preprocessing Job and a GPU training Job of one experiment add up in aicost report --by experiment', async () => {
    const clusterId = `e2e-cpu-${Date.now().toString(36)}`;
    const experiment = `exp-${clusterId}`;
    namespace = await createTestNamespace(client, 'cpu-work');
    const ns = namespace.name;
    const pricingFile = join(dir, 'pricing.yaml');
    writeFileSync(pricingFile, PRICING);
    const ledger = join(dir, 'ledger');
    const fromDate = new Date().toISOString().slice(0, 10);

    const prep = await cpuJob(ns, 'prep', { experiment });
    const train = await gpuJob(client, ns, 'train', { gpus: 1, utilization: '80', labels: { experiment } });
    operator = OperatorProcess.start({
      kubeconfig,
      logDir,
      name: clusterId,
      args: [
        ...['--prometheus-url', prometheusUrl || 'http://127.0.0.1:1', '--scrape-interval', '5s'],
        ...['--interval', '2s', '--annotate-interval', '0s', '--pricing-file', pricingFile],
        ...['--ledger', ledger, '--cluster-id', clusterId, '--ledger-flush-interval', '0s', '--namespace', 'default'],
      ],
    });
    // Both Jobs accrue (the CPU one too: its node is accounted), for a while.
    for (const job of ['prep', 'train'])
      await waitFor(
        async () => {
          const o = await client.get<{ metadata: { annotations?: Record<string, string> } }>(
            `/apis/batch/v1/namespaces/${ns}/jobs/${job}`,
          );
          const cost = o.metadata.annotations?.['aicost.dev/cost'];
          return cost !== undefined && parseMoney(cost) > 0n;
        },
        { description: `Job ${job}'s aicost.dev/cost; logs in ${logDir}`, timeoutMs: 60_000 },
      );
    await new Promise((r) => setTimeout(r, 10_000));
    await operator.stop('SIGTERM');

    // The ledger against the hand computation, each Job at its own accounted-until.
    const targets = await readLedger(ledger, clusterId);
    const closing = (id: string) => {
      const c = targets.get(id)?.closing;
      if (!c) throw new Error(`no ${id} in the ledger; logs in ${logDir}`);
      return c;
    };
    const prepC = closing(`Job/${ns}/prep`);
    const trainC = closing(`Job/${ns}/train`);
    const hand = prepNanos(prep, prepC.accountedUntil) + handNanos(train, trainC.accountedUntil);
    for (const [c, h] of [
      [prepC, prepNanos(prep, prepC.accountedUntil)],
      [trainC, handNanos(train, trainC.accountedUntil)],
    ] as const) {
      const diff = c.cost - h;
      expect(diff < 0n ? -diff : diff).toBeLessThanOrEqual(LEDGER_TOLERANCE_NANOS);
    }
    expect(prepC.gpuHours).toBe(0n);

    // The report: the experiment is both Jobs, so the hand computation, far closer than a cent.
    const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const range = ['--ledger', ledger, '--from', fromDate, '--to', to, '--format', 'json'];
    const byExperiment = JSON.parse(aicost(['report', '--by', 'experiment', ...range])) as {
      experiment: string;
      cost: string;
    }[];
    const reported = parseMoney(byExperiment.find((r) => r.experiment === experiment)?.cost ?? 'missing');
    expect(reported).toBe(prepC.cost + trainC.cost);
    const diff = reported - hand;
    expect(diff < 0n ? -diff : diff).toBeLessThanOrEqual(2n * LEDGER_TOLERANCE_NANOS);

    // GPU and CPU work apart.
    const byCompute = JSON.parse(aicost(['report', '--by', 'experiment,compute', ...range])) as {
      experiment: string;
      compute: string;
      cost: string;
    }[];
    const part = (compute: string) =>
      byCompute.find((r) => r.experiment === experiment && r.compute === compute)?.cost ?? 'missing';
    expect(parseMoney(part('gpu'))).toBe(trainC.cost);
    expect(parseMoney(part('cpu'))).toBe(prepC.cost);
    // The CPU-only nodes' idle capacity is its own row, apart from the GPU nodes'.
    expect(byCompute.map((r) => [r.experiment, r.compute])).toEqual(
      expect.arrayContaining([
        ['__idle__', 'gpu'],
        ['__idle__', 'cpu'],
      ]),
    );
  });
});
