/**
 * The CREATE TABLE statements of docs/ledger.md (Athena, Trino) name the columns the ledger writer writes, in
 * its order, with its types, and the partition columns last: checked against what DuckDB, an independent
 * reader, reads from a Hive-partitioned ledger the store wrote. A column added to src/ledger/parquet.ts without
 * the docs, or a type changed, fails here.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../src/ledger/local-sink.ts';
import { LedgerStore } from '../../src/ledger/store.ts';
import { duckdb, sqlString } from '../../src/testing/duckdb.ts';
import { jobRow, WINDOW_START_MS } from '../../src/testing/ledger-rows.ts';

const DOC = readFileSync(resolve(import.meta.dirname, '../../docs/ledger.md'), 'utf8');

/** The documented SQL type as DuckDB names the type it reads. */
const DUCKDB_TYPE: Readonly<Record<string, string>> = {
  STRING: 'VARCHAR',
  VARCHAR: 'VARCHAR',
  INT: 'INTEGER',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  BOOLEAN: 'BOOLEAN',
  DOUBLE: 'DOUBLE',
  'DECIMAL(18,9)': 'DECIMAL(18,9)',
  // The writer's timestamps are UTC instants (isAdjustedToUTC), which DuckDB reads with a time zone.
  TIMESTAMP: 'TIMESTAMP WITH TIME ZONE',
  'TIMESTAMP(3)': 'TIMESTAMP WITH TIME ZONE',
};

/** The ```sql block of the doc that starts with `create`. */
function block(create: string): string {
  const found = [...DOC.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((b) => b.startsWith(create));
  if (found === undefined) throw new Error(`docs/ledger.md has no sql block starting with ${create}`);
  return found;
}

/** Every `name TYPE` column definition of a statement, in order (backticks and quotes taken off the name). */
function columns(sql: string): [string, string][] {
  const definition =
    /^\s*[`"]?([a-z_]+)[`"]?\s+(STRING|VARCHAR|BIGINT|INT|INTEGER|BOOLEAN|DOUBLE|DECIMAL\(\d+,\d+\)|TIMESTAMP(?:\(3\))?)/;
  const found: [string, string][] = [];
  // One definition a line, but for Athena's PARTITIONED BY (a STRING, b STRING).
  const parts = sql
    .split('\n')
    .flatMap((line) => line.replace(/^PARTITIONED BY \(/, '').split(/,\s*(?=[`"]?[a-z_]+[`"]?\s)/));
  for (const part of parts) {
    const m = definition.exec(part);
    if (m?.[1] && m[2]) found.push([m[1], DUCKDB_TYPE[m[2]] ?? m[2]]);
  }
  return found;
}

let dir = '';
let expected: [string, string][] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aicost-ddl-'));
  expected = await written(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The columns DuckDB reads from the store's files, with hive partitioning (cluster and date as strings). */
async function written(dir: string): Promise<[string, string][]> {
  await new LedgerStore(await LocalSink.open(dir)).writeWindow('prod-1', WINDOW_START_MS, [jobRow()]);
  const glob = sqlString(join(dir, 'cluster=*', 'date=*', '*.parquet'));
  const { types } = await duckdb(
    `select * from read_parquet(${glob}, hive_partitioning = true, hive_types = {'cluster': VARCHAR, 'date': VARCHAR})`,
  );
  return Object.entries(types);
}

describe('docs/ledger.md: the tables of Trino and Athena', () => {
  it.each([
    ['Athena', 'CREATE EXTERNAL TABLE aicost_ledger'],
    ['Trino', 'CREATE TABLE hive.aicost.ledger'],
  ])('%s: the columns and types the writer writes, then cluster and date', (_engine, create) => {
    expect(expected.slice(-2)).toEqual([
      ['cluster', 'VARCHAR'],
      ['date', 'VARCHAR'],
    ]);
    expect(columns(block(create))).toEqual(expected);
  });

  it('names the partition columns the way the layout writes them', () => {
    expect(block('CREATE EXTERNAL TABLE aicost_ledger')).toContain('cluster=${cluster}/date=${date}/');
    expect(block('CREATE TABLE hive.aicost.ledger')).toContain("partitioned_by = ARRAY['cluster', 'date']");
  });
});
