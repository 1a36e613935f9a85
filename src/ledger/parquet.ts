/**
 * Ledger rows to and from one Parquet file.
 *
 * Written with hyparquet-writer and read with hyparquet (both MIT, no dependencies of their own beyond
 * hyparquet). @dsnp/parquetjs, the library the stack first named, cannot hold money: it scales a DECIMAL
 * through a double on write (1.005 is stored as 1.004999999) and rejects bigint, returns doubles on read,
 * and writes no logical types; its 1.9.3 on npm is published without code. hyparquet-writer takes bigint
 * unscaled values as they are and writes both converted and logical types.
 *
 * Column types, as every engine reads them:
 * - money and GPU-hours: DECIMAL(18,9) on INT64, the unscaled value being our nano-units exactly;
 * - window_start, window_end: TIMESTAMP(MILLIS, isAdjustedToUTC = true);
 * - utilization: optional DOUBLE (a measured ratio that is averaged, never summed);
 * - labels: a JSON object in a STRING column, keys sorted. Not a MAP: FOCUS's Tags column, which the export
 *   fills from it, is such a JSON string, every engine reads a string column the same way, and `labels::JSON`
 *   or json_extract queries it in DuckDB, Trino and Athena.
 * - namespace_labels: the namespace's own labels, the same way, in an optional STRING column (null when
 *   unknown). Files written before it was added lack the column: they are read as they are, their rows
 *   without namespace labels, so the format stays 1 (and a reader of before ignores the column). Its keys are
 *   a subset of `labels`' (which merges the namespace's in), so it is bounded as that column is.
 * - served_models (optional STRING), prompt_tokens, generated_tokens, requests (optional INT64: whole counts,
 *   summed exactly by every engine): what an inference workload served (issue #17), added later the same way.
 * - idle_owner (optional STRING): who owns a Node row's idle capacity (issue #18), '' when no one does; null on
 *   workload rows and in files written before it, which read as unowned. Added later the same way.
 * - compute: `gpu`, `cpu` or `storage` (row.ts, computeOf), a required STRING added later still: a file written before it
 *   reads each row by the rule, with its Node rows `gpu` (those ledgers accounted GPU nodes only).
 * - storage_cost: DECIMAL(18,9) like cost (issue #18), written 0 for a row of no storage, added later: a file
 *   without it reads as 0 (no storage was priced when it was written); 0 reads as an unset storageCost.
 * Column names are snake_case, as SQL engines (and Athena's lower-casing) expect.
 *
 * Pages are compressed with ZSTD (node:zlib's), not hyparquet-writer's default Snappy: on rows like the
 * operator's (random uids, a label set per workload) it makes a window file about 40% smaller (docs/ledger.md,
 * `npm run bench:ledger-size`), and DuckDB, Spark, Trino and Athena all read it. Files written with Snappy
 * before read as they are.
 */
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects, type FileMetaData, type SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { computeOf, rowProblems, type LedgerRow } from './row.ts';

type Kind =
  | 'string'
  | 'decimal'
  | 'timestamp'
  | 'int32'
  | 'boolean'
  | 'ratio'
  | 'labels'
  | 'optionalLabels'
  | 'optionalString'
  | 'optionalInt64'
  | 'addedDecimal';

/** The file's columns in order: the Parquet name of each LedgerRow field and how it is stored. */
const COLUMNS: readonly (readonly [name: string, field: keyof LedgerRow, kind: Kind])[] = [
  ['cluster_id', 'clusterId', 'string'],
  ['window_start', 'windowStartMs', 'timestamp'],
  ['window_end', 'windowEndMs', 'timestamp'],
  ['namespace', 'namespace', 'string'],
  ['workload_kind', 'workloadKind', 'string'],
  ['workload_name', 'workloadName', 'string'],
  ['workload_uid', 'workloadUid', 'string'],
  ['team', 'team', 'string'],
  ['project', 'project', 'string'],
  ['experiment', 'experiment', 'string'],
  ['model', 'model', 'string'],
  ['labels', 'labels', 'labels'],
  ['node_pool', 'nodePool', 'string'],
  ['instance_type', 'instanceType', 'string'],
  ['region', 'region', 'string'],
  ['zone', 'zone', 'string'],
  ['capacity_type', 'capacityType', 'string'],
  ['gpu_model', 'gpuModel', 'string'],
  ['pod_count', 'podCount', 'int32'],
  ['gpu_hours', 'gpuHours', 'decimal'],
  ['idle_gpu_hours', 'idleGpuHours', 'decimal'],
  ['utilization', 'utilization', 'ratio'],
  ['cost', 'cost', 'decimal'],
  ['idle_gpu_cost', 'idleGpuCost', 'decimal'],
  ['on_demand_equivalent', 'onDemandEquivalent', 'decimal'],
  ['spot_savings', 'spotSavings', 'decimal'],
  ['currency', 'currency', 'string'],
  ['pricing_source', 'pricingSource', 'string'],
  ['estimate', 'estimate', 'boolean'],
  ['job_outcome', 'jobOutcome', 'string'],
  ['imported', 'imported', 'boolean'],
  // Added later, so last: readers that map a file's columns by position read older files as they are too.
  ['namespace_labels', 'namespaceLabels', 'optionalLabels'],
  // Issue #17: what an inference workload served in the window; null when unknown (row.ts).
  ['served_models', 'servedModels', 'optionalString'],
  ['prompt_tokens', 'promptTokens', 'optionalInt64'],
  ['generated_tokens', 'generatedTokens', 'optionalInt64'],
  ['requests', 'requests', 'optionalInt64'],
  // Issue #18: who owns a Node row's idle capacity; '' unowned, null on workload rows and in older files.
  ['idle_owner', 'idleOwner', 'optionalString'],
  // GPU or CPU work (row.ts: computeOf); a file without it reads by the same rule.
  ['compute', 'compute', 'string'],
  // Issue #18: the storage cost of the window (docs/cost-model.md#storage), apart from `cost`, which stays compute.
  ['storage_cost', 'storageCost', 'addedDecimal'],
];

export const DECIMAL_PRECISION = 18;
export const DECIMAL_SCALE = 9;

const DECIMAL_ELEMENT: Omit<SchemaElement, 'name'> = {
  type: 'INT64',
  repetition_type: 'REQUIRED',
  converted_type: 'DECIMAL',
  precision: DECIMAL_PRECISION,
  scale: DECIMAL_SCALE,
  logical_type: { type: 'DECIMAL', precision: DECIMAL_PRECISION, scale: DECIMAL_SCALE },
};

const ELEMENTS: Record<Kind, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  labels: { type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8', logical_type: { type: 'STRING' } },
  optionalLabels: {
    type: 'BYTE_ARRAY',
    repetition_type: 'OPTIONAL',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
  },
  decimal: DECIMAL_ELEMENT,
  timestamp: {
    type: 'INT64',
    repetition_type: 'REQUIRED',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  optionalString: {
    type: 'BYTE_ARRAY',
    repetition_type: 'OPTIONAL',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
  },
  optionalInt64: { type: 'INT64', repetition_type: 'OPTIONAL' },
  addedDecimal: DECIMAL_ELEMENT,
  int32: { type: 'INT32', repetition_type: 'REQUIRED' },
  boolean: { type: 'BOOLEAN', repetition_type: 'REQUIRED' },
  ratio: { type: 'DOUBLE', repetition_type: 'OPTIONAL' },
};

/** Columns added after the first files were written: a file without one reads as rows without the field. */
const ADDED_LATER: ReadonlySet<string> = new Set([
  'namespace_labels',
  'served_models',
  'prompt_tokens',
  'generated_tokens',
  'requests',
  'idle_owner',
  'compute',
  'storage_cost',
]);

const SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: COLUMNS.length },
  ...COLUMNS.map(([name, , kind]) => ({ name, ...ELEMENTS[kind] })),
];

/** zstd's level: 6 makes a realistic window about 10% smaller than the default 3 (1.42 MB, not 1.58 MB). */
const ZSTD_LEVEL = 6;
const compress = (bytes: Uint8Array): Uint8Array =>
  zstdCompressSync(bytes, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
const decompress = (bytes: Uint8Array): Uint8Array => zstdDecompressSync(bytes);

/** Written in the file's key-value metadata, so a later format can tell an old file from a foreign one. */
export const FORMAT_KEY = 'aicost.ledger.format';
export const FORMAT_VERSION = '1';

/**
 * A Parquet file of the rows, in their order. The caller validates them (rowProblems) first. `metadata` goes
 * into the file's key-value metadata beside the format (the writer keeps its cumulatives there, see durable.ts).
 */
export function encodeRows(
  rows: readonly LedgerRow[],
  metadata: Readonly<Record<string, string>> = {},
  /** SNAPPY writes a file as the ledger did before ZSTD (for the tests that read one). */
  codec: 'ZSTD' | 'SNAPPY' = 'ZSTD',
): Uint8Array {
  const columnData = COLUMNS.map(([name, field, kind]) => ({
    name,
    data: rows.map((row) => toColumn(kind, row[field])),
  }));
  const buffer = parquetWriteBuffer({
    schema: SCHEMA,
    codec,
    compressors: { ZSTD: compress },
    columnData,
    kvMetadata: [
      { key: FORMAT_KEY, value: FORMAT_VERSION },
      ...Object.entries(metadata)
        .filter(([key]) => key !== FORMAT_KEY)
        .map(([key, value]) => ({ key, value })),
    ],
    createdBy: 'aicost-operator ledger',
  });
  return new Uint8Array(buffer);
}

function toColumn(kind: Kind, value: LedgerRow[keyof LedgerRow]): unknown {
  if (kind === 'timestamp') return BigInt(value as number);
  if (kind === 'labels') return labelsJson(value as LedgerRow['labels']);
  if (kind === 'optionalLabels') return value === undefined ? null : labelsJson(value as LedgerRow['labels']);
  if (kind === 'optionalString' || kind === 'optionalInt64') return value ?? null;
  if (kind === 'addedDecimal') return value ?? 0n;
  return value;
}

/** Sorted keys: the same labels always give the same bytes. */
function labelsJson(labels: LedgerRow['labels']): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** The rows of a file encodeRows wrote; throws when the file is not a ledger file or a row is invalid. */
export async function decodeRows(body: Uint8Array): Promise<LedgerRow[]> {
  const file = toArrayBuffer(body);
  const metadata = ledgerMetadata(file);
  const present = COLUMNS.filter(([name]) => metadata.schema.some((e) => e.name === name));
  const records = await parquetReadObjects({
    file,
    metadata: rawDecimals(metadata),
    columns: present.map(([name]) => name),
    compressors: { ZSTD: decompress },
    parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms) },
  });
  // A file written before the compute column: each row's by the rule (row.ts), its Node rows `gpu`.
  const withoutCompute = !present.some(([name]) => name === 'compute');
  const columns = withoutCompute ? COLUMNS.filter(([name]) => name !== 'compute') : COLUMNS;
  return records.map((record, index) => {
    // A column the file lacks (ADDED_LATER) reads as undefined, as a null in it does.
    const row = Object.fromEntries(
      columns.map(([name, field, kind]) => [field, fromColumn(kind, record[name], name)]),
    ) as unknown as { -readonly [K in keyof LedgerRow]: LedgerRow[K] };
    if (withoutCompute) row.compute = computeOf(row.workloadKind, row.gpuHours, 'gpu');
    const problems = rowProblems(row);
    if (problems.length > 0) throw new Error(`ledger row ${index}: ${problems.join('; ')}`);
    return row;
  });
}

/** The key-value metadata of a file encodeRows wrote, without reading its rows. */
export function decodeMetadata(body: Uint8Array): Record<string, string> {
  const metadata = ledgerMetadata(toArrayBuffer(body));
  const out: Record<string, string> = {};
  for (const { key, value } of metadata.key_value_metadata ?? []) if (value !== undefined) out[key] = value;
  return out;
}

function toArrayBuffer(body: Uint8Array): ArrayBuffer {
  const { buffer, byteOffset, byteLength } = body;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
  // A copy: a Buffer's slice() is a view into the same (often pooled, larger) memory.
  return new Uint8Array(body).buffer;
}

/** The file's metadata, once its format and every column we read are what encodeRows writes. */
function ledgerMetadata(file: ArrayBuffer): FileMetaData {
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(file);
  } catch (cause) {
    throw new Error('not a Parquet file', { cause });
  }
  const format = metadata.key_value_metadata?.find((kv) => kv.key === FORMAT_KEY)?.value;
  if (format !== FORMAT_VERSION)
    throw new Error(`not a ledger file of format ${FORMAT_VERSION} (found ${format ?? 'none'})`);
  for (const [name, , kind] of COLUMNS) {
    const found = metadata.schema.find((e) => e.name === name);
    if (!found && ADDED_LATER.has(name)) continue;
    const want = ELEMENTS[kind];
    if (
      !found ||
      found.type !== want.type ||
      found.repetition_type !== want.repetition_type ||
      found.converted_type !== want.converted_type ||
      found.scale !== want.scale ||
      found.precision !== want.precision
    )
      throw new Error(`ledger column ${name} is missing or not ${describeElement(want)}`);
  }
  return metadata;
}

function describeElement(e: Omit<SchemaElement, 'name'>): string {
  return [e.repetition_type, e.type, e.converted_type, e.precision, e.scale].filter((x) => x !== undefined).join(' ');
}

/**
 * The same metadata with the DECIMAL annotation taken off our columns: hyparquet then hands over the INT64
 * unscaled values as bigint, which are our nano-units, instead of scaling them through a double.
 */
function rawDecimals(metadata: FileMetaData): FileMetaData {
  const schema = metadata.schema.map((element) => {
    if (element.converted_type !== 'DECIMAL') return element;
    const { converted_type: _c, logical_type: _l, scale: _s, precision: _p, ...raw } = element;
    return raw;
  });
  return { ...metadata, schema };
}

function fromColumn(kind: Kind, value: unknown, name: string): unknown {
  const fail = () => new Error(`ledger column ${name} holds ${typeof value}, not ${kind}`);
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw fail();
      return value;
    case 'labels':
      if (typeof value !== 'string') throw fail();
      return parseLabels(value, name);
    case 'optionalLabels':
      if (value === null || value === undefined) return undefined;
      if (typeof value !== 'string') throw fail();
      return parseLabels(value, name);
    case 'decimal':
      if (typeof value !== 'bigint') throw fail();
      return value;
    case 'timestamp':
    case 'int32':
      if (typeof value !== 'number') throw fail();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw fail();
      return value;
    case 'ratio':
      if (value !== null && typeof value !== 'number') throw fail();
      return value;
    case 'optionalString':
      if (value === null || value === undefined) return undefined;
      if (typeof value !== 'string') throw fail();
      return value;
    case 'optionalInt64':
      if (value === null || value === undefined) return undefined;
      if (typeof value !== 'bigint') throw fail();
      return value;
    case 'addedDecimal':
      // 0, and a file written before the column (nothing was priced there), read as a row of no storage does.
      if (value === undefined || value === 0n) return undefined;
      if (typeof value !== 'bigint') throw fail();
      return value;
  }
}

function parseLabels(text: string, name: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new Error(`ledger column ${name} is not JSON`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`ledger column ${name} is not a JSON object`);
  return parsed as Record<string, string>;
}
