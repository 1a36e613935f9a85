import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { duckdb, sqlString } from '../testing/duckdb.ts';
import { encodeRowsBeforeNamespaceLabels } from '../testing/ledger-before-namespace-labels.ts';
import { HOUR_MS, jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { decodeRows, encodeRows, FORMAT_KEY, FORMAT_VERSION } from './parquet.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aicost-parquet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const toArrayBuffer = (body: Uint8Array): ArrayBuffer => new Uint8Array(body).buffer;

async function written(name: string, body: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, body);
  return sqlString(path);
}

describe('ledger Parquet', () => {
  const rows = [
    jobRow(),
    jobRow({ workloadUid: 'u-2', workloadKind: 'Deployment', jobOutcome: '', utilization: null, labels: {} }),
    nodeRow(),
  ];

  it('round-trips every field exactly', async () => {
    expect(await decodeRows(encodeRows(rows))).toEqual(rows);
  });

  it('keeps storage cost in its own column, 0 for rows of none, and reads files without it as none', async () => {
    const withStorage = [
      jobRow({ storageCost: 10_958_904n }),
      jobRow({
        workloadKind: 'PersistentVolumeClaim',
        workloadName: 'ckpt',
        workloadUid: 'c-1',
        jobOutcome: '',
        cost: 0n,
        gpuHours: 0n,
        compute: 'storage',
        storageCost: 5n,
      }),
      nodeRow(),
    ];
    const body = encodeRows(withStorage);
    expect(await decodeRows(body)).toEqual(withStorage);
    const { rows: read } = await duckdb(
      `select sum(storage_cost)::VARCHAR as storage, count(*) filter (where storage_cost = 0)::INT as none from ${await written('storage.parquet', body)}`,
    );
    expect(read).toEqual([{ storage: '0.010958909', none: 1 }]);
    // Files of before: every row reads without storage (encodeRowsBeforeNamespaceLabels writes no later column).
    expect((await decodeRows(encodeRowsBeforeNamespaceLabels(rows))).map((r) => r.storageCost)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('round-trips no rows', async () => {
    expect(await decodeRows(encodeRows([]))).toEqual([]);
  });

  it('reads back from a Buffer that is a view into a larger one', async () => {
    const body = encodeRows(rows);
    const larger = Buffer.alloc(body.length + 16);
    larger.set(body, 8);
    expect(await decodeRows(larger.subarray(8, 8 + body.length))).toEqual(rows);
  });

  it('compresses with ZSTD, which DuckDB reads, and still reads the Snappy files written before', async () => {
    const body = encodeRows(rows);
    const codecs = parquetMetadata(toArrayBuffer(body)).row_groups.flatMap((g) =>
      g.columns.map((c) => c.meta_data?.codec),
    );
    expect(new Set(codecs)).toEqual(new Set(['ZSTD']));
    const { rows: read } = await duckdb(`select count(*)::INT as n from ${await written('zstd.parquet', body)}`);
    expect(read).toEqual([{ n: 3 }]);
    expect(await decodeRows(encodeRows(rows, {}, 'SNAPPY'))).toEqual(rows);
  });

  it('stores labels as a JSON object with sorted keys', async () => {
    const path = await written('labels.parquet', encodeRows([jobRow({ labels: { b: '2', a: '1' } })]));
    const { rows: read } = await duckdb(`select labels, labels::JSON->>'b' as b from ${path}`);
    expect(read).toEqual([{ labels: '{"a":"1","b":"2"}', b: '2' }]);
  });

  it('stores what an inference workload served as whole counts, null where unknown, which DuckDB sums exactly', async () => {
    const vllm = jobRow({
      workloadKind: 'Deployment',
      jobOutcome: '',
      servedModels: 'llama-3-8b',
      promptTokens: 1_440_000n,
      generatedTokens: 2_160_000n,
      requests: 7_200n,
    });
    const big = 2n ** 62n; // beyond a double's integers: read back to the unit
    const triton = jobRow({
      ...vllm,
      workloadUid: 'u-2',
      servedModels: 'resnet,yolo',
      promptTokens: undefined,
      generatedTokens: undefined,
      requests: big + 1n,
    });
    const tgi = jobRow({
      ...vllm,
      workloadUid: 'u-3',
      servedModels: '',
      promptTokens: 0n,
      generatedTokens: 0n,
      requests: 0n,
    });
    const none = jobRow({ workloadUid: 'u-4' });
    const body = encodeRows([vllm, triton, tgi, none]);
    expect(await decodeRows(body)).toEqual([vllm, triton, tgi, none]);
    const { rows: read } = await duckdb(
      `select served_models, prompt_tokens::VARCHAR as p, requests::VARCHAR as r from ${await written('served.parquet', body)}`,
    );
    expect(read).toEqual([
      { served_models: 'llama-3-8b', p: '1440000', r: '7200' },
      { served_models: 'resnet,yolo', p: null, r: String(big + 1n) },
      { served_models: '', p: '0', r: '0' },
      { served_models: null, p: null, r: null },
    ]);
  });

  it('stores the namespace labels apart, as a JSON object with sorted keys, and null where they are unknown', async () => {
    const known = jobRow({ namespaceLabels: { team: 'research', 'kubernetes.io/metadata.name': 'ml' } });
    const unknown = jobRow({ workloadUid: 'u-2', namespaceLabels: undefined });
    const body = encodeRows([known, unknown, nodeRow()]);
    expect((await decodeRows(body)).map((r) => r.namespaceLabels)).toEqual([
      { 'kubernetes.io/metadata.name': 'ml', team: 'research' },
      undefined,
      {},
    ]);
    const { rows: read } = await duckdb(
      `select namespace_labels, namespace_labels::JSON->>'team' as team from ${await written('ns.parquet', body)}`,
    );
    expect(read).toEqual([
      { namespace_labels: '{"kubernetes.io/metadata.name":"ml","team":"research"}', team: 'research' },
      { namespace_labels: null, team: null },
      { namespace_labels: '{}', team: null },
    ]);
  });

  it('stores who owns a Node row’s idle: the owner, empty when unowned, null on workload rows', async () => {
    const owned = nodeRow({ team: 'ml', labels: { team: 'ml' }, idleOwner: 'ml' });
    const unowned = nodeRow({ workloadUid: 'n-2', idleOwner: '' });
    const body = encodeRows([jobRow(), owned, unowned]);
    expect((await decodeRows(body)).map((r) => r.idleOwner)).toEqual([undefined, 'ml', '']);
    const { rows: read } = await duckdb(`select idle_owner from ${await written('owner.parquet', body)}`);
    expect(read).toEqual([{ idle_owner: null }, { idle_owner: 'ml' }, { idle_owner: '' }]);
    // A file of before has no idle_owner column: its Node rows read as unowned.
    const old = await decodeRows(encodeRowsBeforeNamespaceLabels([owned]));
    expect(old[0]?.idleOwner).toBeUndefined();
  });

  it('reads a file written before the namespace_labels column: its rows have no namespace labels', async () => {
    const old = encodeRowsBeforeNamespaceLabels(rows);
    expect(parquetMetadata(toArrayBuffer(old)).schema.map((e) => e.name)).not.toContain('namespace_labels');
    const read = await decodeRows(old);
    expect(read.map((r) => r.namespaceLabels)).toEqual([undefined, undefined, undefined]);
    expect(read).toEqual(rows.map((r) => ({ ...r, namespaceLabels: undefined })));
  });

  it('round-trips CPU rows: a CPU Job without GPU-hours, and a CPU-only node’s idle row', async () => {
    const cpu = [
      jobRow({ gpuHours: 0n, idleGpuHours: 0n, utilization: null, compute: 'cpu' }),
      nodeRow({ gpuHours: 0n, idleGpuHours: 0n, gpuModel: '', compute: 'cpu' }),
    ];
    expect(await decodeRows(encodeRows(cpu))).toEqual(cpu);
  });

  it('reads a file written before the compute column by the rule: Node rows gpu, others by their GPU-hours', async () => {
    const old = encodeRowsBeforeNamespaceLabels([
      jobRow({ gpuHours: 0n, compute: 'cpu' }),
      jobRow({ workloadUid: 'u-2', gpuHours: 1n }),
      nodeRow({ gpuHours: 0n, idleGpuHours: 0n }),
    ]);
    expect(parquetMetadata(toArrayBuffer(old)).schema.map((e) => e.name)).not.toContain('compute');
    expect((await decodeRows(old)).map((r) => r.compute)).toEqual(['cpu', 'gpu', 'gpu']);
  });

  it('lets DuckDB read files from before and after the column together (by name)', async () => {
    const before = await written('before.parquet', encodeRowsBeforeNamespaceLabels([jobRow()]));
    const after = await written('after.parquet', encodeRows([jobRow({ workloadUid: 'u-2' })]));
    const files = `[${before}, ${after}]`;
    // Queries that leave the new column out read the mix as it is, as the report's DuckDB engine does.
    expect((await duckdb(`select sum(cost)::VARCHAR as cost from read_parquet(${files})`)).rows).toEqual([
      { cost: '24691357.802469134' },
    ]);
    const { rows: read } = await duckdb(
      `select workload_uid, namespace_labels::JSON->>'team' as team
       from read_parquet(${files}, union_by_name = true) order by workload_uid`,
    );
    expect(read).toEqual([
      { workload_uid: '6a1f0c2e-0000-4000-8000-000000000001', team: null },
      { workload_uid: 'u-2', team: 'alpha' },
    ]);
  });

  it('writes the types an independent reader understands: DECIMAL(18,9) money, UTC timestamps', async () => {
    const path = await written('types.parquet', encodeRows(rows));
    const { types } = await duckdb(`select * from ${path}`);
    expect(types).toEqual({
      cluster_id: 'VARCHAR',
      window_start: 'TIMESTAMP WITH TIME ZONE',
      window_end: 'TIMESTAMP WITH TIME ZONE',
      namespace: 'VARCHAR',
      workload_kind: 'VARCHAR',
      workload_name: 'VARCHAR',
      workload_uid: 'VARCHAR',
      team: 'VARCHAR',
      project: 'VARCHAR',
      experiment: 'VARCHAR',
      model: 'VARCHAR',
      labels: 'VARCHAR',
      node_pool: 'VARCHAR',
      instance_type: 'VARCHAR',
      region: 'VARCHAR',
      zone: 'VARCHAR',
      capacity_type: 'VARCHAR',
      gpu_model: 'VARCHAR',
      pod_count: 'INTEGER',
      gpu_hours: 'DECIMAL(18,9)',
      idle_gpu_hours: 'DECIMAL(18,9)',
      utilization: 'DOUBLE',
      cost: 'DECIMAL(18,9)',
      idle_gpu_cost: 'DECIMAL(18,9)',
      on_demand_equivalent: 'DECIMAL(18,9)',
      spot_savings: 'DECIMAL(18,9)',
      currency: 'VARCHAR',
      pricing_source: 'VARCHAR',
      estimate: 'BOOLEAN',
      job_outcome: 'VARCHAR',
      imported: 'BOOLEAN',
      namespace_labels: 'VARCHAR',
      served_models: 'VARCHAR',
      prompt_tokens: 'BIGINT',
      generated_tokens: 'BIGINT',
      requests: 'BIGINT',
      idle_owner: 'VARCHAR',
      compute: 'VARCHAR',
      storage_cost: 'DECIMAL(18,9)',
    });
  });

  it('gives DuckDB the exact values and sums, to the nano-unit', async () => {
    const path = await written('sums.parquet', encodeRows(rows));
    const { rows: read } = await duckdb(
      `select sum(cost)::VARCHAR as cost, sum(spot_savings)::VARCHAR as savings, sum(gpu_hours)::VARCHAR as gpu_hours,
         min(epoch_ms(window_start)) as start_ms, max(epoch_ms(window_end)) as end_ms, count(utilization) as measured
       from ${path}`,
    );
    // 2 × 12,345,678.901234567 + 7.000000001; the savings -5 nano-units twice and 0.
    expect(read).toEqual([
      {
        cost: '24691364.802469135',
        savings: '-0.000000010',
        gpu_hours: '24.000000000',
        start_ms: String(rows[0]?.windowStartMs),
        end_ms: String((rows[0]?.windowStartMs ?? 0) + HOUR_MS),
        measured: '1',
      },
    ]);
  });

  it('refuses a Parquet file that is not a ledger file', async () => {
    const foreign = new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'x', data: [1], type: 'INT32' }] }));
    await expect(decodeRows(foreign)).rejects.toThrow('not a ledger file of format 1 (found none)');
    await expect(decodeRows(new Uint8Array([1, 2, 3]))).rejects.toThrow('not a Parquet file');
  });

  it.each([
    [
      [{ name: 'cluster_id', data: ['prod-1'], type: 'STRING' as const, nullable: false }],
      'window_start',
      'REQUIRED INT64 TIMESTAMP_MILLIS',
    ],
    [[{ name: 'cluster_id', data: ['prod-1'], type: 'STRING' as const }], 'cluster_id', 'REQUIRED BYTE_ARRAY UTF8'],
  ])('refuses a ledger file with a column missing or of another type', async (columnData, column, type) => {
    const body = parquetWriteBuffer({ columnData, kvMetadata: [{ key: FORMAT_KEY, value: FORMAT_VERSION }] });
    await expect(decodeRows(new Uint8Array(body))).rejects.toThrow(`ledger column ${column} is missing or not ${type}`);
  });
});
