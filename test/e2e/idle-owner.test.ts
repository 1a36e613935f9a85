/**
 * Idle that lands on an owner (issue #18; docs/cost-model.md#idle-owned-by-a-team), on the local cluster:
 *
 * 1. A node pool of one kwok node, a g6e.12xlarge (4 L40S) labelled team=<pool team>, tainted so that nothing
 *    is scheduled on it, priced by the pricing file's `nodes:` entry at 7.20 $/h: 2,000,000 nano-dollars a
 *    second, so a whole second costs an exact number of nano-dollars.
 * 2. The operator runs with --idle-owner-label team, its ledger in a directory, every cycle written, until the
 *    node has been accounted for 20 seconds.
 * 3. The node's ledger target holds its idle: all of its cost (no pod requested anything). By hand, the node's
 *    idle GPU-hours are its 4 GPUs × the seconds accounted, so its cost is 7.20 $/h × GPU-hours / 4 = 1.8 ×
 *    GPU-hours, to the nano-dollar but for each cycle's rounding; and those seconds lie between the operator's
 *    start (less a start-up's slack) and the node's creation.
 * 4. `aicost report --by team` has a row of the pool's team whose cost, all of it idle (idleCost), is the node's
 *    cost; `--idle pooled` has no such row, the node's cost being in `__idle__`; both views add up to the same
 *    total.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/controller/errors.ts';
import { parseMoney } from '../../src/cost/money.ts';
import { nodeObject } from '../cluster/profile.ts';
import { cluster, waitFor } from './support/cluster.ts';
import { LEDGER_TOLERANCE_NANOS, readLedger } from './support/hand-cost.ts';
import { fastArgs, OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
/** 7.20 $/h in nano-dollars; the node's 4 GPUs. */
const PRICE_PER_HOUR_NANOS = 7_200_000_000n;
const GPUS = 4n;
const ACCOUNTED_S = 20;

const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
const NODE = `idle-pool-${suffix}`;
const TEAM = `pool-${suffix}`;
const CLUSTER_ID = `e2e-idle-${suffix}`;

let dir = '';
const operators: OperatorProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aicost-idle-owner-e2e-'));
});
afterEach(async () => {
  await Promise.all(operators.splice(0).map((o) => o.stop('SIGKILL')));
  try {
    await client.delete(`/api/v1/nodes/${NODE}`);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The pool's node, as the local cluster's profile makes its nodes (test/cluster/apply-profile.ts). */
async function createPoolNode(): Promise<number> {
  const node = nodeObject({
    name: NODE,
    instanceType: 'g6e.12xlarge',
    region: 'us-east-1',
    zone: 'us-east-1a',
    capacityType: 'on-demand',
    capacityLabelStyle: 'karpenter',
    gpu: { product: 'NVIDIA-L40S', count: Number(GPUS), memoryMiB: 46068 },
    cpu: '48',
    memory: '384Gi',
    labels: { team: TEAM },
    taints: [{ key: 'aicost.dev/e2e-idle-pool', effect: 'NoSchedule' }],
  });
  await client.create('/api/v1/nodes', node);
  // An update of the Node ignores its status: the capacity goes through the status subresource.
  await client.patch(
    `/api/v1/nodes/${NODE}/status`,
    { status: { capacity: node.status.capacity, allocatable: node.status.allocatable } },
    'merge',
  );
  return Date.now() / 1000;
}

function aicost(args: string[]): string {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`aicost ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

interface ReportLine {
  readonly team: string;
  readonly cost: string;
  readonly idleCost?: string;
}

describe('idle owned by a team', () => {
  it('an idle pool labelled team=<team> bills its team; --idle pooled puts it in __idle__', async () => {
    const fromDate = new Date().toISOString().slice(0, 10);
    const createdS = await createPoolNode();
    const pricing = join(dir, 'pricing.yaml');
    writeFileSync(pricing, `nodes:\n  ${NODE}: "7.20"\n`);
    const ledger = join(dir, 'ledger');
    const startedS = Date.now() / 1000;
    operators.push(
      OperatorProcess.start({
        kubeconfig,
        logDir,
        name: `idle-owner-${suffix}`,
        args: [
          ...fastArgs(prometheusUrl),
          ...['--interval', '2s', '--namespace', `idle-owner-${suffix}`, '--cluster-id', CLUSTER_ID],
          ...['--ledger', ledger, '--ledger-flush-interval', '0s'],
          ...['--pricing-file', pricing, '--idle-owner-label', 'team'],
        ],
      }),
    );

    // 2. Accounted for 20 seconds past the operator's start.
    const node = await waitFor(
      async () => {
        const closing = (await readLedger(ledger, CLUSTER_ID).catch(() => undefined))?.get(`Node/${NODE}`)?.closing;
        return closing && closing.accountedUntil >= startedS + ACCOUNTED_S ? closing : undefined;
      },
      { description: `${NODE} accounted for ${ACCOUNTED_S} s in the ledger`, timeoutMs: 120_000 },
    );
    await Promise.all(operators.splice(0).map((o) => o.stop('SIGTERM')));
    const final = (await readLedger(ledger, CLUSTER_ID)).get(`Node/${NODE}`)?.closing ?? node;

    // 3. The hand computation: 7.20 $/h for the seconds the node's 4 idle GPUs were accounted.
    const seconds = (Number(final.gpuHours) / 1e9 / Number(GPUS)) * 3600;
    const note = JSON.stringify({ createdS, startedS, until: final.accountedUntil, seconds, cost: String(final.cost) });
    expect(seconds, note).toBeLessThanOrEqual(final.accountedUntil - createdS + 1);
    expect(seconds, note).toBeGreaterThanOrEqual(final.accountedUntil - startedS - 30);
    const hand = (PRICE_PER_HOUR_NANOS * final.gpuHours) / GPUS / 1_000_000_000n;
    expect(final.cost, note).toBeGreaterThan(0n);
    expect(final.cost - hand, note).toBeGreaterThanOrEqual(-LEDGER_TOLERANCE_NANOS);
    expect(final.cost - hand, note).toBeLessThanOrEqual(LEDGER_TOLERANCE_NANOS);

    // 4. The report, both views.
    const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const range = ['--ledger', ledger, '--cluster', CLUSTER_ID, '--from', fromDate, '--to', to, '--format', 'json'];
    const owned = JSON.parse(aicost(['report', '--by', 'team', ...range])) as ReportLine[];
    const pooled = JSON.parse(aicost(['report', '--by', 'team', '--idle', 'pooled', ...range])) as ReportLine[];
    const detail = JSON.stringify({ owned, pooled });
    const team = owned.find((r) => r.team === TEAM);
    expect(team, detail).toBeDefined();
    // To the cent (to the nano-dollar, in fact): the team's row is the node's cost, and all of it is idle.
    expect(parseMoney(team?.cost ?? 'missing'), detail).toBe(final.cost);
    expect(parseMoney(team?.idleCost ?? 'missing'), detail).toBe(final.cost);
    expect(
      pooled.find((r) => r.team === TEAM),
      detail,
    ).toBeUndefined();
    const idleOf = (lines: readonly ReportLine[]) => parseMoney(lines.find((r) => r.team === '__idle__')?.cost ?? '0');
    expect(idleOf(pooled) - idleOf(owned), detail).toBe(final.cost);
    const total = (lines: readonly ReportLine[]) => lines.reduce((s, r) => s + parseMoney(r.cost), 0n);
    expect(total(pooled), detail).toBe(total(owned));
  });
});
