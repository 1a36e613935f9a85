/**
 * `aicost export focus`: the range's ledger rows, streamed one window at a time, as FOCUS rows in one Parquet
 * file (a row group per window) or one CSV file. Written beside the target and renamed over it at the end,
 * so a failed export leaves no half file under the target's name.
 *
 * Parquet types (FOCUS 1.3 data types): Decimal as DECIMAL(18,9) on INT64, never DOUBLE (mixed decimal and
 * double columns across providers are a known pain, FOCUS_Spec#1077); Date/Time as TIMESTAMP(MILLIS, UTC);
 * String as UTF8; JSON (Tags, AllocatedTags) as BYTE_ARRAY with the JSON logical type. CSV writes decimals as
 * exact decimal text, times as ISO 8601 in UTC ("2026-11-01T13:00:00Z"), nulls as empty fields.
 */
import { open, rename, unlink } from 'node:fs/promises';
import type { SchemaElement } from 'hyparquet';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import type { LedgerRow } from '../ledger/row.ts';
import type { LedgerRange, LedgerStore } from '../ledger/store.ts';
import { FOCUS_COLUMNS, FOCUS_VERSION, type FocusKind, type FocusOptions, type FocusValue } from './focus.ts';
import { csv, decimal } from './format.ts';

export interface ExportResult {
  readonly rows: number;
  /** EffectiveCost summed per currency, in nano-units. */
  readonly effectiveCost: Map<string, bigint>;
}

const ELEMENTS: Record<FocusKind, Omit<SchemaElement, 'name' | 'repetition_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  json: { type: 'BYTE_ARRAY', converted_type: 'JSON', logical_type: { type: 'JSON' } },
  decimal: {
    type: 'INT64',
    converted_type: 'DECIMAL',
    precision: 18,
    scale: 9,
    logical_type: { type: 'DECIMAL', precision: 18, scale: 9 },
  },
  datetime: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  int32: { type: 'INT32' },
  double: { type: 'DOUBLE' },
  boolean: { type: 'BOOLEAN' },
};

export const FOCUS_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: FOCUS_COLUMNS.length },
  ...FOCUS_COLUMNS.map((c) => ({
    name: c.name,
    repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const),
    ...ELEMENTS[c.kind],
  })),
];

export async function exportFocus(
  store: LedgerStore,
  range: LedgerRange,
  out: string,
  format: 'parquet' | 'csv',
  options: FocusOptions,
): Promise<ExportResult> {
  const temp = `${out}.${process.pid}.tmp`;
  try {
    const result =
      format === 'parquet'
        ? await writeParquet(store, range, temp, options)
        : await writeCsv(store, range, temp, options);
    await rename(temp, out);
    return result;
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function writeParquet(
  store: LedgerStore,
  range: LedgerRange,
  path: string,
  options: FocusOptions,
): Promise<ExportResult> {
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    schema: FOCUS_SCHEMA,
    kvMetadata: [{ key: 'focus.version', value: FOCUS_VERSION }],
    createdBy: 'aicost-operator export focus',
  });
  const effectiveCost = new Map<string, bigint>();
  let rows = 0;
  for await (const window of store.readRange(range)) {
    if (window.rows.length === 0) continue;
    const columnData = FOCUS_COLUMNS.map((c) => ({
      name: c.name,
      data: window.rows.map((row) => parquetValue(c.kind, c.value(row, options))),
    }));
    await writer.write({ columnData, rowGroupSize: window.rows.length });
    rows += window.rows.length;
    addCosts(effectiveCost, window.rows);
  }
  await writer.finish();
  return { rows, effectiveCost };
}

function parquetValue(kind: FocusKind, value: FocusValue): unknown {
  if (value === null) return null;
  if (kind === 'datetime') return BigInt(value);
  // hyparquet-writer serializes JSON columns itself; ours are already text.
  if (kind === 'json') return JSON.parse(value as string) as unknown;
  return value;
}

async function writeCsv(
  store: LedgerStore,
  range: LedgerRange,
  path: string,
  options: FocusOptions,
): Promise<ExportResult> {
  const file = await open(path, 'wx');
  const effectiveCost = new Map<string, bigint>();
  let rows = 0;
  try {
    await file.write(csv([FOCUS_COLUMNS.map((c) => c.name)]));
    for await (const window of store.readRange(range)) {
      if (window.rows.length === 0) continue;
      const lines = window.rows.map((row) => FOCUS_COLUMNS.map((c) => csvValue(c.kind, c.value(row, options))));
      await file.write(`\r\n${csv(lines)}`);
      rows += window.rows.length;
      addCosts(effectiveCost, window.rows);
    }
    await file.write('\r\n');
    await file.sync();
  } finally {
    await file.close();
  }
  return { rows, effectiveCost };
}

/** EffectiveCost is the ledger's cost, so the export's total is the ledger's. */
function addCosts(sums: Map<string, bigint>, rows: readonly LedgerRow[]): void {
  for (const r of rows) sums.set(r.currency, (sums.get(r.currency) ?? 0n) + r.cost);
}

function csvValue(kind: FocusKind, value: FocusValue): string {
  if (value === null) return '';
  switch (kind) {
    case 'decimal':
      return decimal(value as bigint);
    case 'datetime':
      return new Date(value as number).toISOString().replace('.000Z', 'Z');
    default:
      return String(value);
  }
}
