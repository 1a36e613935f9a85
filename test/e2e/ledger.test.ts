/**
 * Issue #15's acceptance run on the local cluster: two teams' workloads; a Job deleted mid-run; a namespace
 * deleted; a tenant setting its Job's `aicost.dev/cost` to 0 and its accounted-until to the year 3000; and the
 * leader killed with SIGKILL three times at random moments, a standby always running. Afterwards:
 *
 * - every workload's ledger cost is the hand computation (its pods' GPUs × the p4d's GPU price per second ×
 *   the seconds from the pod's start to the workload's accounted-until), to the micro-dollar: nothing lost to a
 *   kill, nothing counted twice, the tenant's edit ignored;
 * - a deleted workload's accounted-until lies between its deletion (less two intervals: the cycle before it,
 *   and one write a kill may lose) and the moment its pod was gone;
 * - `aicost report --by team` gives each team the sum of its workloads, so the hand computation to the cent;
 *   `--by workload` still lists the deleted Job and the deleted namespace's Job;
 * - the FOCUS export, read by DuckDB, sums to the report's total and gives each team the same amount.
 *
 * The same run is made with the ledger in a directory and in a bucket of SeaweedFS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound } from '../../src/controller/errors.ts';
import { formatMoney, parseMoney, type Nanos } from '../../src/cost/money.ts';
import type { S3Settings } from '../../src/ledger/s3-settings.ts';
import { duckdb, sqlString } from '../../src/testing/duckdb.ts';
import { startWeed, type WeedServer } from '../support/weed-server.ts';
import { cluster, createTestNamespace, runningPod, waitFor, type TestNamespace } from './support/cluster.ts';
import {
  gpuDeployment,
  gpuJob,
  handNanos,
  LEDGER_TOLERANCE_NANOS,
  readLedger,
  type Held,
} from './support/hand-cost.ts';
import { metricValue, OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
const INTERVAL_S = 2;

const operators: OperatorProcess[] = [];
const namespaces: TestNamespace[] = [];
let weed: WeedServer | undefined;

beforeAll(async () => {
  weed = await startWeed({ bucket: 'ledger-e2e' });
});
afterEach(async () => {
  await Promise.all(operators.splice(0).map((o) => o.stop('SIGKILL')));
  await Promise.all(namespaces.splice(0).map((n) => n.remove()));
});
afterAll(async () => {
  await weed?.stop();
});

interface Sink {
  readonly location: string;
  readonly env: Record<string, string>;
  readonly s3: S3Settings | undefined;
}

/** Which of the running replicas leads, once exactly one does. */
async function leader(): Promise<OperatorProcess> {
  return waitFor(
    async () => {
      const running = operators.filter((o) => o.running);
      const leading = await Promise.all(
        running.map(async (o) => metricValue(await o.metrics().catch(() => ''), 'aicost_leader')),
      );
      const leaders = running.filter((_, i) => leading[i] === 1);
      return leaders.length === 1 ? leaders[0] : undefined;
    },
    { description: 'exactly one leading replica', timeoutMs: 30_000 },
  );
}

let replicas = 0;
function startReplica(sink: Sink, clusterId: string): void {
  replicas += 1;
  operators.push(
    OperatorProcess.start({
      kubeconfig,
      logDir,
      name: `${clusterId}-${replicas}`,
      env: sink.env,
      args: [
        ...['--prometheus-url', prometheusUrl || 'http://127.0.0.1:1', '--scrape-interval', '5s'],
        ...['--interval', `${INTERVAL_S}s`, '--annotate-interval', '0s'],
        ...['--ledger', sink.location, '--cluster-id', clusterId, '--ledger-flush-interval', '0s'],
        ...['--namespace', 'default', '--leader-elect', 'true', '--leader-election-id', `aicost-${clusterId}`],
        ...['--lease-duration', '6s', '--renew-deadline', '4s', '--retry-period', '1s'],
      ],
    }),
  );
}

/** Waits a random 2-6 s (so the kill lands anywhere in a cycle or a write), kills the leader, starts a standby. */
async function killLeader(sink: Sink, clusterId: string, delays: number[]): Promise<void> {
  const delayMs = 2000 + Math.floor(Math.random() * 4000);
  delays.push(delayMs);
  await sleep(delayMs);
  (await leader()).kill('SIGKILL');
  startReplica(sink, clusterId);
  await leader();
}

interface Ended {
  /** When the deletion was asked for. */
  readonly requestedS: number;
  /** When the pod was first seen gone. */
  readonly goneS: number;
  /** The container's finish time, when the pod was seen terminated before it went. */
  readonly finishedS: number | undefined;
}

/** Deletes `path` and polls the pod until it is gone, noting when its container finished if it is seen. */
async function deleteAndWait(path: string, podPath: string): Promise<Ended> {
  const requestedS = Date.now() / 1000;
  await client.delete(path);
  let finishedS: number | undefined;
  await waitFor(
    async () => {
      try {
        const pod = await client.get<TerminatedPod>(podPath);
        const finished = pod.status.containerStatuses?.[0]?.state?.terminated?.finishedAt;
        if (finished && (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed'))
          finishedS = Date.parse(finished) / 1000;
        return false;
      } catch (e) {
        if (isNotFound(e)) return true;
        throw e;
      }
    },
    { description: `${podPath} gone`, timeoutMs: 60_000, intervalMs: 200 },
  );
  return { requestedS, goneS: Date.now() / 1000, finishedS };
}

interface TerminatedPod {
  status: { phase?: string; containerStatuses?: { state?: { terminated?: { finishedAt?: string } } }[] };
}

/**
 * A deleted pod's cost, by hand, is bounded: it ends no later than its container's finish (or its absence
 * from the API), and no earlier than that less two intervals (the cycle before it, and one write a kill may
 * lose) and a second (times are whole seconds).
 */
function deletedRange(h: Held, end: Ended): [Nanos, Nanos] {
  const stoppedS = Math.min(end.finishedS ?? end.goneS, end.goneS);
  return [handNanos(h, Math.floor(stoppedS) - 2 * INTERVAL_S - 1), handNanos(h, Math.ceil(stoppedS))];
}

function aicost(args: string[], env: Record<string, string>): string {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`aicost ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

async function run(sink: Sink): Promise<void> {
  const clusterId = `e2e-${Date.now().toString(36)}`;
  const [teamA, teamB] = [`alpha-${clusterId}`, `beta-${clusterId}`];
  // Team alpha from its namespace's label, team beta from its Job's.
  const a = await createTestNamespace(client, 'ledger-a', { team: teamA });
  const b = await createTestNamespace(client, 'ledger-b');
  namespaces.push(a, b);
  const fromDate = new Date().toISOString().slice(0, 10);
  const train = await gpuJob(client, a.name, 'train', { gpus: 4, utilization: '80' });
  const serve = await gpuDeployment(client, a.name, 'serve', { gpus: 1, utilization: '10' });
  const short = await gpuJob(client, a.name, 'short', { gpus: 2, utilization: '80' });
  const trainB = await gpuJob(client, b.name, 'train', { gpus: 2, utilization: '80', labels: { team: teamB } });
  const shortPod = (await runningPod(client, a.name, 'app=short')).metadata.name;
  const trainBPod = (await runningPod(client, b.name, 'app=train')).metadata.name;

  startReplica(sink, clusterId);
  startReplica(sink, clusterId);
  await leader();
  const delays: number[] = [];
  await killLeader(sink, clusterId, delays);
  // Foreground: the Job stays in the cache (being deleted) until its pod is gone, so the pod stays the Job's.
  const shortEnd = await deleteAndWait(
    `/apis/batch/v1/namespaces/${a.name}/jobs/short?propagationPolicy=Foreground`,
    `/api/v1/namespaces/${a.name}/pods/${shortPod}`,
  );
  await killLeader(sink, clusterId, delays);
  const jobPath = `/apis/batch/v1/namespaces/${a.name}/jobs/train`;
  await client.patch(
    jobPath,
    { metadata: { annotations: { 'aicost.dev/cost': '0', 'aicost.dev/accounted-until': '3000-01-01T00:00:00Z' } } },
    'merge',
  );
  await killLeader(sink, clusterId, delays);
  const namespaceEnd = await deleteAndWait(
    `/api/v1/namespaces/${b.name}`,
    `/api/v1/namespaces/${b.name}/pods/${trainBPod}`,
  );
  // The tenant's edit is rewritten from the ledger.
  const shown = await waitFor(
    async () => {
      const o = await client.get<{ metadata: { annotations?: Record<string, string> } }>(jobPath);
      const until = o.metadata.annotations?.['aicost.dev/accounted-until'] ?? '';
      return until.startsWith('20') && Date.parse(until) / 1000 > namespaceEnd.goneS + INTERVAL_S
        ? o.metadata.annotations
        : undefined;
    },
    { description: `${jobPath}'s annotations rewritten from the ledger`, timeoutMs: 30_000 },
  );
  await Promise.all(operators.map((o) => o.stop('SIGTERM')));
  const note = `leader killed after ${delays.join(', ')} ms; logs in ${logDir}`;

  // 1. The ledger against the hand computation.
  const targets = await readLedger(sink.location, clusterId, sink.s3);
  const closing = (id: string) => {
    const c = targets.get(id)?.closing;
    if (!c) throw new Error(`no ${id} in the ledger; ${note}`);
    return c;
  };
  const expectExact = (id: string, h: Held) => {
    const c = closing(id);
    const diff = c.cost - handNanos(h, c.accountedUntil);
    expect(diff < 0n ? -diff : diff, `${id}: ledger ${c.cost} at ${c.accountedUntil}; ${note}`).toBeLessThanOrEqual(
      LEDGER_TOLERANCE_NANOS,
    );
    return c;
  };
  const trainC = expectExact(`Job/${a.name}/train`, train);
  const serveC = expectExact(`Deployment/${a.name}/serve`, serve);
  const shortC = closing(`Job/${a.name}/short`);
  const trainBC = closing(`Job/${b.name}/train`);
  const shortRange = deletedRange(short, shortEnd);
  const trainBRange = deletedRange(trainB, namespaceEnd);
  for (const [c, [low, high]] of [
    [shortC, shortRange],
    [trainBC, trainBRange],
  ] as const) {
    expect(c.cost, `${note}; ${JSON.stringify({ shortEnd, namespaceEnd })}`).toBeGreaterThanOrEqual(low);
    expect(c.cost, `${note}; ${JSON.stringify({ shortEnd, namespaceEnd })}`).toBeLessThanOrEqual(high);
  }
  expect(trainC.accountedUntil).toBeGreaterThan(namespaceEnd.goneS);
  expect(shown['aicost.dev/cost']).not.toBe('0');

  // 2. The report: each team is the sum of its workloads (so the hand computation); the deleted ones are listed.
  const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const range = ['--ledger', sink.location, '--from', fromDate, '--to', to, '--format', 'json'];
  const byTeam = JSON.parse(aicost(['report', '--by', 'team', ...range], sink.env)) as { team: string; cost: string }[];
  const teamCost = (team: string) => parseMoney(byTeam.find((r) => r.team === team)?.cost ?? 'missing');
  const detail = aicost(['report', '--by', 'team,workload', ...range], sink.env);
  expect(teamCost(teamA), `${note}; ${detail}`).toBe(trainC.cost + serveC.cost + shortC.cost);
  expect(teamCost(teamB), note).toBe(trainBC.cost);
  // To the cent: each team's report lies within its hand computation, whose uncertainty (the deleted pods'
  // last seconds) is under a cent.
  const running = handNanos(train, trainC.accountedUntil) + handNanos(serve, serveC.accountedUntil);
  for (const [team, low, high] of [
    [teamA, running + shortRange[0], running + shortRange[1]],
    [teamB, trainBRange[0], trainBRange[1]],
  ] as const) {
    expect(high - low, `${team}'s hand computation is not known to the cent`).toBeLessThan(10_000_000n);
    expect(teamCost(team)).toBeGreaterThanOrEqual(low - 1000n);
    expect(teamCost(team)).toBeLessThanOrEqual(high + 1000n);
  }
  const byWorkload = JSON.parse(aicost(['report', '--by', 'workload', ...range], sink.env)) as { workload: string }[];
  expect(byWorkload.map((r) => r.workload)).toEqual(
    expect.arrayContaining([`${a.name}/Job/short`, `${b.name}/Job/train`]),
  );

  // 3. FOCUS, read by DuckDB.
  const out = join(mkdtempSync(join(tmpdir(), 'aicost-ledger-e2e-')), 'cost.parquet');
  aicost(['export', 'focus', ...range.slice(0, -2), '--out', out], sink.env);
  const total = byTeam.reduce((sum, r) => sum + parseMoney(r.cost), 0n);
  const { rows } = await duckdb(
    `select sum(EffectiveCost)::VARCHAR as total, ` +
      `sum(EffectiveCost) filter (where json_extract_string(Tags, '$.team') = ${sqlString(teamA)})::VARCHAR as alpha ` +
      `from ${sqlString(out)}`,
  );
  expect(rows).toEqual([{ total: formatMoney(total, 9), alpha: formatMoney(teamCost(teamA), 9) }]);
  rmSync(resolve(out, '..'), { recursive: true, force: true });
}

describe('the ledger on the local cluster, through leader kills, deletions and a tenant edit', () => {
  it('in a directory: the report and the FOCUS export equal the hand computation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aicost-ledger-e2e-'));
    try {
      await run({ location: join(dir, 'ledger'), env: {}, s3: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in a bucket of SeaweedFS: the same', async () => {
    if (!weed) throw new Error('SeaweedFS did not start');
    const s3 = {
      endpoint: weed.endpoint,
      region: weed.region,
      accessKeyId: weed.accessKeyId,
      secretAccessKey: weed.secretAccessKey,
      sessionToken: undefined,
    };
    const env = {
      AWS_ENDPOINT_URL_S3: weed.endpoint,
      AWS_REGION: weed.region,
      AWS_ACCESS_KEY_ID: weed.accessKeyId,
      AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
    };
    await run({ location: `s3://${weed.bucket}/run-${Date.now().toString(36)}`, env, s3 });
  });
});
