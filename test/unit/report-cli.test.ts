/**
 * `aicost report`, `aicost report runs` and `aicost export focus` as a user runs them, over the ledger of
 * src/testing/report-ledger.ts; the FOCUS file is checked with DuckDB, an independent reader, and the report's
 * rows are checked to add up to its EffectiveCost total to the nano-unit.
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdb, sqlString } from '../../src/testing/duckdb.ts';
import { BY_MODEL_JSON, BY_TEAM_JSON, reportLedgerDir } from '../../src/testing/report-ledger.ts';
import { MANDATORY_COLUMNS } from '../../src/report/focus.ts';
import { parseMoney } from '../../src/cost/money.ts';

const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
const RANGE = ['--from', '2026-11-01', '--to', '2026-11-02'];

let dir = '';
let ledger = '';
beforeAll(async () => {
  ({ dir, ledger } = await reportLedgerDir('aicost-report-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function aicost(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `aicost report --by cluster,team` over the test's range in a format, with an engine. */
const byClusterTeam = (format: string, engine: string) => [
  'report',
  '--ledger',
  ledger,
  '--by',
  'cluster,team',
  ...RANGE,
  '--format',
  format,
  '--engine',
  engine,
];

const sumNanos = (rows: { cost: string }[]) => rows.reduce((s, r) => s + parseMoney(r.cost), 0n);

describe('aicost report', () => {
  it('prints the rows as JSON, the ledger from AICOST_LEDGER', () => {
    const r = aicost(['report', '--by', 'team', ...RANGE, '--format', 'json'], { AICOST_LEDGER: ledger });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(BY_TEAM_JSON);
  });

  it.each([['js'], ['duckdb']])('engine %s: the same rows', (engine) => {
    const r = aicost(byClusterTeam('csv', engine));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\r\n')).toEqual([
      'cluster,team,cost,currency',
      'prod-1,alpha,5.500000003,USD',
      'prod-2,beta,4.00,USD',
      'prod-1,beta,0.999999999,USD',
      'prod-1,,0.30,USD',
      'prod-1,__idle__,2.10,USD',
      'prod-2,__idle__,1.00,USD\n',
    ]);
  });

  it.each([['js'], ['duckdb']])(
    'engine %s: --by model gives each model its tokens, requests and unit costs; no model is "(none)"',
    (engine) => {
      const base = ['report', '--ledger', ledger, '--by', 'model', ...RANGE, '--engine', engine];
      const json = aicost([...base, '--format', 'json']);
      expect([json.status, json.stderr]).toEqual([0, '']);
      expect(JSON.parse(json.stdout)).toEqual(BY_MODEL_JSON);
      const csv = aicost([...base, '--format', 'csv']);
      expect(csv.stdout.split('\r\n').slice(0, 3)).toEqual([
        'model,cost,currency,promptTokens,generatedTokens,requests,costPerMillionTokens,costPerThousandRequests',
        'llama-3-8b,9.833333336,USD,,,,,',
        'mistral-7b,0.666666666,USD,2880000,4320000,14400,0.092592593,0.046296296',
      ]);
      const table = aicost([...base, '--format', 'table']).stdout.split('\n');
      expect(table[0]).toMatch(
        /^MODEL +COST +CURRENCY +PROMPT TOKENS +GENERATED TOKENS +REQUESTS +COST\/1M TOKENS +COST\/1K REQUESTS$/,
      );
      expect(table[3]).toMatch(/^\(none\) +0\.30 +USD +2000 +6000 +20 +25\.00 +10\.00$/);
      expect(table[1]).toMatch(/^llama-3-8b +9\.833333336 +USD +- +- +- +- +-$/);
    },
    60_000,
  );

  it('--efficiency: spend by class, GPU-hours under 70 %, endpoints used, the same from either engine', () => {
    const base = ['report', '--ledger', ledger, '--by', 'team', ...RANGE, '--efficiency', '--format', 'json'];
    const js = aicost([...base, '--engine', 'js']);
    expect([js.status, js.stderr]).toEqual([0, '']);
    const rows = JSON.parse(js.stdout) as Record<string, string | null>[];
    // alpha: train-a's 00:00 hour at 50 % is flagged, train-b was never measured. beta: train-c trains;
    // serve is development at 00:00 (a file before the served columns: no series known), then serves
    // 7,200 requests an hour (used). No team: the bare pod scratch, likewise.
    expect(rows.map((r) => Object.values(r).slice(3))).toEqual([
      ['5.500000003', '0.00', '0.00', '5.00', '1.00', '2.00', '0.00', null],
      ['4.00', '0.666666666', '0.333333333', '32.00', '0.00', '0.00', '16.00', '1.0000'],
      ['0.00', '0.20', '0.10', '24.00', '0.00', '0.00', '16.00', '1.0000'],
      ['0.00', '0.00', '0.00', '32.00', '0.00', '0.00', '0.00', null],
    ]);
    expect(aicost([...base, '--engine', 'duckdb']).stdout).toBe(js.stdout);
    const table = aicost([...base.slice(0, -2), '--format', 'table']).stdout.split('\n');
    expect(table[0]).toMatch(/ TRAINING +INFERENCE +DEVELOPMENT +GPU-HOURS +GPU-HOURS <70% +GPU-HOURS UNMEASURED /);
  }, 60_000);

  it('--format html: one page whose rows are the JSON rows, on stdout, from either engine', () => {
    const json = aicost(byClusterTeam('json', 'js'));
    const expected = (JSON.parse(json.stdout) as Record<string, string>[]).map((r) => Object.values(r));
    for (const engine of ['js', 'duckdb']) {
      const r = aicost(byClusterTeam('html', engine));
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/^<!doctype html>\n[\s\S]*<\/html>\n$/);
      const rows = [...r.stdout.matchAll(/<tr class="row">(.*?)<\/tr>/g)].map((m) =>
        [...(m[1] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => (c[1] === '(none)' ? '' : c[1])),
      );
      expect(rows).toEqual(expected);
      // Under two days: one bar per window, three windows.
      expect(r.stdout.match(/<g class="bucket"/g)).toHaveLength(3);
    }
  }, 60_000);

  it('lists the runs, the deleted Job too', () => {
    const r = aicost(['report', 'runs', '--ledger', ledger, ...RANGE, '--format', 'json']);
    expect(r.status).toBe(0);
    const { runs } = JSON.parse(r.stdout) as { runs: { job: string; outcome: string; cost: string }[] };
    expect(runs.map((run) => [run.job, run.outcome, run.cost])).toEqual([
      ['train-a', 'running', '3.000000003'],
      ['train-b', 'failed', '2.50'],
      ['train-c', 'running', '4.00'],
    ]);
  });

  it('says what is wrong, with exit code 2 for arguments and 1 for a ledger it cannot open', () => {
    const usage = aicost(['report', '--ledger', ledger, '--by', 'team', '--idle', 'hide']);
    expect([usage.status, usage.stdout]).toEqual([2, '']);
    expect(usage.stderr).toMatch(/^aicost report: --idle: "hide" is not one of separate, share, pooled\nUsage: /);
    const s3 = aicost(['report', '--ledger', 's3://bucket/ledger', '--by', 'team'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
    });
    expect([s3.status, s3.stdout]).toEqual([1, '']);
    // No AWS_* credentials here: the variables are named, never a value.
    expect(s3.stderr).toMatch(
      /^aicost: an s3:\/\/ ledger needs credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set/,
    );
  });
});

describe('aicost export focus', () => {
  let parquet = '';
  beforeAll(() => {
    parquet = join(dir, 'cost.parquet');
    const r = aicost(['export', 'focus', '--ledger', ledger, ...RANGE, '--out', parquet, '--host-provider', 'AWS']);
    expect(r).toEqual({
      status: 0,
      stdout: '',
      stderr: `wrote 15 FOCUS rows to ${parquet}; EffectiveCost 13.900000002 USD\n`,
    });
  });

  it('writes every mandatory FOCUS 1.3 column with the spec types: DECIMAL money, UTC times, JSON tags', async () => {
    const { types } = await duckdb(`select * from ${sqlString(parquet)}`);
    for (const column of MANDATORY_COLUMNS) expect(Object.keys(types)).toContain(column);
    expect(types).toMatchObject({
      BilledCost: 'DECIMAL(18,9)',
      EffectiveCost: 'DECIMAL(18,9)',
      ListCost: 'DECIMAL(18,9)',
      ContractedCost: 'DECIMAL(18,9)',
      PricingQuantity: 'DECIMAL(18,9)',
      ConsumedQuantity: 'DECIMAL(18,9)',
      BillingPeriodStart: 'TIMESTAMP WITH TIME ZONE',
      ChargePeriodStart: 'TIMESTAMP WITH TIME ZONE',
      ChargePeriodEnd: 'TIMESTAMP WITH TIME ZONE',
      BillingCurrency: 'VARCHAR',
      AllocatedMethodId: 'VARCHAR',
      AllocatedResourceId: 'VARCHAR',
    });
    // The one DOUBLE is x_Utilization, a measured ratio; no FOCUS column is a float.
    expect(Object.entries(types).filter(([, type]) => type === 'DOUBLE' || type === 'FLOAT')).toEqual([
      ['x_Utilization', 'DOUBLE'],
    ]);
    // Key-value columns carry Parquet's JSON logical type, which DuckDB reads as its JSON type.
    const json = await duckdb(
      `select name, logical_type from parquet_schema(${sqlString(parquet)}) where name in ('Tags', 'AllocatedTags') order by name`,
    );
    expect(json.rows).toEqual([
      { name: 'AllocatedTags', logical_type: 'JsonType()' },
      { name: 'Tags', logical_type: 'JsonType()' },
    ]);
    const typed = await duckdb(`select distinct typeof(Tags) as t from ${sqlString(parquet)}`);
    expect(typed.rows).toEqual([{ t: 'JSON' }]);
  });

  it("sums to the ledger's total, to the nano-unit, and so do the report's rows", async () => {
    const { rows } = await duckdb(
      `select sum(EffectiveCost)::VARCHAR as total, count(*) as n, count(AllocatedResourceId) as allocated from ${sqlString(parquet)}`,
    );
    expect(rows).toEqual([{ total: '13.900000002', n: '15', allocated: '11' }]);
    for (const idle of ['separate', 'share'])
      for (const by of ['team', 'cluster,team', 'workload', 'model,namespace']) {
        const r = aicost(['report', '--ledger', ledger, '--by', by, ...RANGE, '--format', 'json', '--idle', idle]);
        expect(sumNanos(JSON.parse(r.stdout) as { cost: string }[])).toBe(parseMoney('13.900000002'));
      }
  }, 60_000);

  it('splits the cost: workloads are allocated charges, idle capacity the unallocated part', async () => {
    const { rows } = await duckdb(
      `select AllocatedResourceName as name, AllocatedMethodId as method, Tags::VARCHAR as tags, ` +
        `EffectiveCost::VARCHAR as cost, ConsumedQuantity::VARCHAR as gpu_hours, ConsumedUnit as unit, ` +
        `HostProviderName as host, ServiceProviderName as provider, x_WorkloadKind as kind ` +
        `from ${sqlString(parquet)} where ChargePeriodStart = '2026-11-01T00:00:00Z' and x_ClusterId = 'prod-1' ` +
        `order by x_WorkloadName`,
    );
    const common = { method: 'aicost-requests-share-v1', host: 'AWS', provider: 'Kubernetes', unit: 'GPU-Hours' };
    expect(rows).toEqual([
      { ...common, name: null, tags: null, cost: '0.700000000', gpu_hours: '8.000000000', kind: 'Node' },
      {
        ...common,
        name: 'sandbox/Pod/scratch',
        tags: null,
        cost: '0.100000000',
        gpu_hours: '8.000000000',
        kind: 'Pod',
      },
      expect.objectContaining({ name: 'serving/Deployment/serve', tags: '{"environment":"prod","team":"beta"}' }),
      expect.objectContaining({ name: 'ml-alpha/Job/train-a', cost: '1.000000001', gpu_hours: '1.000000000' }),
      expect.objectContaining({ name: 'ml-alpha/Job/train-b', cost: '2.500000000' }),
    ]);
  });

  it('writes CSV when the file ends in .csv, with the same total', async () => {
    const csvFile = join(dir, 'cost.csv');
    expect(aicost(['export', 'focus', '--ledger', ledger, ...RANGE, '--out', csvFile]).status).toBe(0);
    const { rows } = await duckdb(
      `select sum(EffectiveCost)::VARCHAR as total, min(ChargePeriodStart)::VARCHAR as first ` +
        `from read_csv(${sqlString(csvFile)}, header = true, types = {'EffectiveCost': 'DECIMAL(18,9)', 'ChargePeriodStart': 'TIMESTAMPTZ'})`,
    );
    expect(rows).toEqual([{ total: '13.900000002', first: '2026-11-01 00:00:00+00' }]);
  });
});
