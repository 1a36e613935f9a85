/**
 * `aicost recommend` end to end, in-process: a ledger written by the project's own store into a temporary
 * directory, and Prometheus answers served over HTTP by a local server. The scenario is the worked example of
 * docs/unit-economics.md#recommendations, whose JSON is checked here exactly.
 *
 * Cluster prod-1, daily ledger windows over the 30 days before 2026-12-01T00:00Z:
 *   serving/chat-api   Deployment, one A100 of a p4d.24xlarge on demand, 1.76070525 an hour, every day;
 *                      its pod 10 % busy with 6 GiB used                    -> right-size to a g4dn.xlarge
 *   p4d node gpu-p4d-1 its seven other A100s unrequested, every day     -> 8 GPUs steady: a commitment
 *   research/embedder  Deployment, a g6.12xlarge's four L4s, the last day; three never used  -> fewer-gpus
 *   node gpu-spare     a g5.xlarge nothing requested on the last two days                    -> empty-node
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMoney } from '../cost/money.ts';
import { LocalSink } from '../ledger/local-sink.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { LedgerStore } from '../ledger/store.ts';
import { jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { WORKED_EXAMPLE_JSON } from '../testing/recommend-example.ts';
import { startPrometheusServer, type PrometheusServer } from '../testing/prometheus-server.ts';
import type { CommandIo } from '../report/commands.ts';
import { recommendCommand } from './command.ts';
import { podQueries } from './observe.ts';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);
const START = NOW - 30 * DAY_MS;
const perDay = (perHour: string, gpus: number) => ({
  cost: parseMoney(perHour) * 24n,
  onDemandEquivalent: parseMoney(perHour) * 24n,
  gpuHours: BigInt(gpus * 24) * 1_000_000_000n,
});
const onDemand = { capacityType: 'on-demand', spotSavings: 0n, region: 'us-east-1', labels: {} } as const;

function dayRows(d: number): LedgerRow[] {
  const w = { windowStartMs: START + d * DAY_MS, windowEndMs: START + (d + 1) * DAY_MS };
  const deployment = { ...onDemand, ...w, workloadKind: 'Deployment', jobOutcome: '', team: '' } as const;
  const rows: LedgerRow[] = [
    jobRow({
      ...deployment,
      namespace: 'serving',
      workloadName: 'chat-api',
      workloadUid: 'u-chat',
      ...perDay('1.76070525', 1),
    }),
    nodeRow({ ...onDemand, ...w, workloadName: 'gpu-p4d-1', workloadUid: 'n-p4d', ...perDay('20.19693675', 7) }),
  ];
  if (d === 29)
    rows.push(
      jobRow({
        ...deployment,
        namespace: 'research',
        workloadName: 'embedder',
        workloadUid: 'u-emb',
        instanceType: 'g6.12xlarge',
        gpuModel: 'NVIDIA-L4',
        ...perDay('4.6016', 4),
      }),
    );
  if (d >= 28)
    rows.push(
      nodeRow({
        ...onDemand,
        ...w,
        workloadName: 'gpu-spare',
        workloadUid: 'n-spare',
        instanceType: 'g5.xlarge',
        gpuModel: 'NVIDIA-A10G',
        ...perDay('1.006', 1),
      }),
    );
  return rows;
}

let dir = '';
let prometheus: PrometheusServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aicost-recommend-'));
  const store = new LedgerStore(await LocalSink.open(join(dir, 'ledger')));
  for (let d = 0; d < 30; d++) await store.writeWindow('prod-1', START + d * DAY_MS, dayRows(d));
  prometheus = await startPrometheusServer();
  const q = podQueries(86_400, 0.05);
  // The chat pod behind an exporter scraped with honor_labels: false, the embedder's scraped as its own target.
  const chat = {
    pod: 'dcgm-exporter-7x',
    namespace: 'gpu',
    exported_pod: 'chat-api-7d4b9c8f6d-x2x9q',
    exported_namespace: 'serving',
  };
  const emb = { pod: 'embedder-5f6c7d8e9f-abcde', namespace: 'research' };
  const stray = { pod: 'someone-else', namespace: 'research' };
  const answer = (pairs: [Record<string, string>, string][]) => pairs.map(([metric, value]) => ({ metric, value }));
  prometheus.answers.set(
    q.gpus,
    answer([
      [chat, '1'],
      [emb, '4'],
      [stray, '1'],
    ]),
  );
  prometheus.answers.set(
    q.busiest,
    answer([
      [chat, '0.1'],
      [emb, '0.6'],
      [stray, '0'],
    ]),
  );
  prometheus.answers.set(
    q.unused,
    answer([
      [emb, '3'],
      [stray, '1'],
    ]),
  );
  prometheus.answers.set(
    q.samples,
    answer([
      [chat, '5760'],
      [emb, '5760'],
      [stray, '5760'],
    ]),
  );
  prometheus.answers.set(
    q.memory,
    answer([
      [chat, '6144'],
      [emb, '3000'],
      [stray, '1'],
    ]),
  );
  prometheus.answers.set(
    q.memoryGpus,
    answer([
      [chat, '1'],
      [emb, '4'],
      [stray, '1'],
    ]),
  );
});
afterAll(async () => {
  await prometheus.close();
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: { ledger?: string; nowMs?: number } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    nowMs: env.nowMs ?? NOW,
    program: 'aicost',
    ledger: (flag) => flag ?? env.ledger ?? join(dir, 'no-such-ledger'),
    s3: () => undefined,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
  };
  return recommendCommand(args, io).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('aicost recommend', () => {
  it('the worked example of docs/unit-economics.md: every kind of recommendation, the largest saving first', async () => {
    const r = await run(['--prometheus-url', prometheus.url, '--ledger', join(dir, 'ledger'), '--format', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(WORKED_EXAMPLE_JSON);
    expect(prometheus.queries).toHaveLength(6);
  });

  it('reads the last finished ledger windows that make up the window, whatever the time', async () => {
    const later = NOW + 50 * 60_000;
    const args = ['--prometheus-url', prometheus.url, '--ledger', join(dir, 'ledger'), '--format', 'json'];
    const r = await run(args, { nowMs: later });
    const figures = (JSON.parse(r.out) as { type: string; monthlySaving: string; windows?: number }[]).map((x) => [
      x.type,
      x.monthlySaving,
      x.windows,
    ]);
    // The look-back's 30 days from 00:50 hold 29 whole daily windows; the baseline is the same.
    expect(figures).toEqual([
      ['commitment', '4808.723598', 29],
      ['fewer-gpus', '2519.376', undefined],
      ['right-size', '901.3348325', undefined],
      ['empty-node', '734.38', undefined],
    ]);
  });

  it('prints a table', async () => {
    const r = await run(['--prometheus-url', prometheus.url, '--ledger', join(dir, 'ledger')]);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^TYPE +TARGET +CLUSTER +SAVING\/MONTH +CURRENCY +CONFIDENCE +REASON$/);
    expect(lines.slice(1).map((l) => l.split(/ {2,}/).slice(0, 4))).toEqual([
      ['commitment', 'p4d/us-east-1', 'prod-1', '4808.723598'],
      ['fewer-gpus', 'research/Deployment/embedder', 'prod-1', '2519.376'],
      ['right-size', 'serving/Deployment/chat-api', 'prod-1', '901.3348325'],
      ['empty-node', 'Node/gpu-spare', 'prod-1', '734.38'],
    ]);
  });

  it('skips a Prometheus it cannot reach with a warning, and still answers from the ledger', async () => {
    const r = await run([
      '--prometheus-url',
      'http://127.0.0.1:1',
      '--ledger',
      join(dir, 'ledger'),
      '--format',
      'json',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^aicost recommend: warning: Prometheus could not be read: .*right-sizing skipped$/);
    expect((JSON.parse(r.out) as { type: string }[]).map((x) => x.type)).toEqual(['commitment', 'empty-node']);
  });

  it('skips a missing ledger with a warning, and creates no directory', async () => {
    const r = await run(['--prometheus-url', prometheus.url, '--format', 'json']);
    expect(existsSync(join(dir, 'no-such-ledger'))).toBe(false);
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      `aicost recommend: warning: no ledger at ${join(dir, 'no-such-ledger')}: skipped (empty nodes and commitments need it)`,
    );
    expect(JSON.parse(r.out)).toEqual([]);
  });

  it('says so when nothing is to be recommended', async () => {
    const r = await run([
      '--ledger',
      join(dir, 'ledger'),
      '--discount',
      '30',
      '--empty-after',
      '3d',
      '--cluster',
      'prod-2',
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('aicost recommend: warning: no --prometheus-url: right-sizing skipped');
    expect(r.out).toBe('No recommendations.');
  });

  it.each([
    [['--format', 'csv'], '--format is table or json, not "csv"'],
    [['--window', '10m'], '--window is a duration from 1h to 30d'],
    [['--discount', '0'], '--discount is a percent off on-demand'],
    [['--headroom', '1.5'], '--headroom is a whole percent'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--cluster', 'Prod 1'], '"Prod 1" is not a cluster id'],
  ])('refuses %j with exit code 2', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain('Usage: aicost recommend');
  });
});
