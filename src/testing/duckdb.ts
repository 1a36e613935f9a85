/**
 * DuckDB as the independent reader of what the ledger writes: the tests ask it for the column types and the
 * sums it computes itself, so a file that only our own reader understands fails them.
 */
import { DuckDBInstance } from '@duckdb/node-api';

export interface QueryResult {
  /** Column name to the type DuckDB reports, e.g. "DECIMAL(18,9)". */
  readonly types: Record<string, string>;
  /** Rows with every value as DuckDB renders it to JSON (decimals and big integers as strings). */
  readonly rows: Record<string, unknown>[];
}

/** Runs one query on a fresh in-memory database. */
export async function duckdb(sql: string): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = Object.fromEntries(reader.columnTypes().map((t, i) => [names[i] ?? String(i), t.toString()]));
    return { types, rows: reader.getRowObjectsJson() };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A path inside a SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
