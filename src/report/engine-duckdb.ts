/**
 * The embedded engine: DuckDB reads the range's Parquet files itself, only the columns a report needs, on
 * every core, and returns the same sums as engine-js.ts (which the tests compare it with). Sums of
 * DECIMAL(18,9) are DECIMAL(38,9) in DuckDB, exact; they come back as integer nano-units in text, never
 * through a double.
 *
 * DuckDB (@duckdb/node-api, a native binary of about 70 MB) is an optional dependency: the operator's image
 * leaves it out, and `aicost report` then streams in JavaScript. It reads local files only (S3 would need
 * DuckDB's httpfs extension, which it downloads at run time).
 */
import { join } from 'node:path';
import type { LedgerStore } from '../ledger/store.ts';
import { IDLE, type Group } from './aggregate.ts';
import type { Scope } from './engine-js.ts';
import type { RunSum } from './runs.ts';
import type { JobOutcome } from '../ledger/row.ts';
import { LOW_UTILIZATION, WORKLOAD_CLASS_LABEL, WORKLOAD_CLASSES, type Efficiency } from './efficiency.ts';
import { withServed, type Served } from './served.ts';
import { DAY_MS, WORKLOAD_KEYS, type BucketGroup, type Bucketing, type TimelineSums } from './timeline.ts';

type DuckDb = typeof import('@duckdb/node-api');

/** DuckDB's module, or undefined when it is not installed (it is an optional dependency). */
export async function loadDuckDb(): Promise<DuckDb | undefined> {
  try {
    return await import('@duckdb/node-api');
  } catch {
    return undefined;
  }
}

export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Label keys are checked by the options (letters, digits, '-', '_', '.', '/'), so they sit safely in a JSON path. */
function keyExpression(key: string): string {
  switch (key) {
    case 'team':
    case 'project':
    case 'experiment':
    case 'namespace':
      return key;
    case 'model':
      // keyValue's rule: the model the inference series name, else the `model` label (aggregate.ts).
      return "coalesce(nullif(served_models, ''), model)";
    case 'workload':
      return "namespace || '/' || workload_kind || '/' || workload_name";
    case 'cluster':
      return 'cluster_id';
    case 'compute':
      // computeOf (row.ts) for files written before the column, whose Node rows are GPU nodes'.
      return "coalesce(compute, CASE WHEN workload_kind = 'Node' OR gpu_hours > 0 THEN 'gpu' ELSE 'cpu' END)";
    default:
      return `coalesce(json_extract_string(labels, ${sqlString(`$."${key}"`)}), '')`;
  }
}

/** rowKeys() in SQL: a Node row is `__idle__` under every key but the cluster, unless its idle owner names it. */
function nodeAware(key: string): string {
  if (key === 'cluster' || key === 'compute') return keyExpression(key);
  const value = keyExpression(key);
  if (!ownerKey(key)) return `CASE WHEN workload_kind = 'Node' THEN ${sqlString(IDLE)} ELSE ${value} END`;
  return (
    `CASE WHEN workload_kind <> 'Node' THEN ${value} ` +
    `WHEN coalesce(idle_owner, '') <> '' AND ${value} <> '' THEN ${value} ELSE ${sqlString(IDLE)} END`
  );
}

/** Whether an owned Node row can have a value under the key (rowKeys): not under its namespace or workload. */
const ownerKey = (key: string) => !['cluster', 'compute', 'namespace', 'workload'].includes(key);

/**
 * The columns added later (parquet.ts: the served ones, idle_owner, compute) as an empty select: united by
 * name with the files, they read as null from files written before them, even when no file of the range has
 * them (union_by_name alone would leave them out, and the query could not name them).
 */
const SERVED_COLUMNS =
  'SELECT NULL::VARCHAR AS served_models, NULL::BIGINT AS prompt_tokens, NULL::BIGINT AS generated_tokens, ' +
  'NULL::BIGINT AS requests, NULL::VARCHAR AS idle_owner, NULL::VARCHAR AS compute WHERE false';

/** Nano-units of a DECIMAL(…,9) sum, as text: exact whatever the size. */
const nanos = (expression: string) => `CAST(CAST(${expression} * 1000000000 AS HUGEINT) AS VARCHAR)`;

function where(scope: Scope, extra: string[] = []): string {
  const conditions = [
    `epoch_ms(window_start) >= ${Math.trunc(scope.fromMs)}`,
    `epoch_ms(window_start) < ${Math.trunc(scope.toMs)}`,
    ...extra,
  ];
  if (scope.namespace !== undefined) conditions.push(`namespace = ${sqlString(scope.namespace)}`);
  return conditions.join(' AND ');
}

async function query(
  duckdb: DuckDb,
  store: LedgerStore,
  directory: string,
  scope: Scope,
  sql: (files: string) => string,
  /** The query names a column added later (parquet.ts): files without it read it as null. */
  addedLater = false,
): Promise<Record<string, unknown>[]> {
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      const keys = await store.keysInRange(scope);
      if (keys.length === 0) return [];
      const paths = keys.map((k) => sqlString(join(directory, ...k.split('/')))).join(', ');
      const files = addedLater
        ? `(SELECT * FROM read_parquet([${paths}], union_by_name = true) UNION ALL BY NAME ${SERVED_COLUMNS})`
        : `read_parquet([${paths}])`;
      try {
        const reader = await connection.runAndReadAll(sql(files));
        return reader.getRowObjectsJson();
      } catch (error) {
        // A window compacted (or replaced) between the listing and the read: list again, once.
        if (attempt < 2 && /No files found|No such file|Cannot open file/i.test(String(error))) continue;
        throw new Error(`DuckDB could not read the ledger in ${directory}`, { cause: error });
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export async function groupsDuckDb(
  duckdb: DuckDb,
  store: LedgerStore,
  directory: string,
  scope: Scope,
  by: readonly string[],
  efficiency = false,
): Promise<Group[]> {
  return (await sums(duckdb, store, directory, scope, by, undefined, withServed(by), efficiency)).map(
    ({ bucketMs: _b, ...group }) => group,
  );
}

/** The HTML report's sums: the --by groups per bucket (one query), and the groups per workload (another). */
export async function timelineDuckDb(
  duckdb: DuckDb,
  store: LedgerStore,
  directory: string,
  scope: Scope,
  by: readonly string[],
  bucketing: Bucketing,
): Promise<TimelineSums> {
  const buckets = await sums(duckdb, store, directory, scope, by, bucketing);
  const workloads = await groupsDuckDb(duckdb, store, directory, scope, WORKLOAD_KEYS);
  return { buckets, workloads };
}

/** bucketOf() in SQL: a window's start, or the start of its UTC day. */
function bucketExpression(bucketing: Bucketing): string {
  return bucketing === 'day' ? `(epoch_ms(window_start) // ${DAY_MS}) * ${DAY_MS}` : 'epoch_ms(window_start)';
}

async function sums(
  duckdb: DuckDb,
  store: LedgerStore,
  directory: string,
  scope: Scope,
  by: readonly string[],
  bucketing: Bucketing | undefined,
  served = false,
  efficiency = false,
): Promise<BucketGroup[]> {
  const keys = by.map((key, i) => `${nodeAware(key)} AS k${i}`);
  if (bucketing !== undefined) keys.push(`CAST(${bucketExpression(bucketing)} AS VARCHAR) AS bucket`);
  const rows = await query(
    duckdb,
    store,
    directory,
    scope,
    (files) =>
      `SELECT cluster_id, currency, workload_kind = 'Node' AS idle${keys.map((k) => `, ${k}`).join('')}, ` +
      `${nanos('sum(cost)')} AS cost${served ? SERVED_SUMS : ''}${efficiency ? EFFICIENCY_SUMS : ''} ` +
      `FROM ${efficiency ? classified(files) : files} WHERE ${where(scope)} GROUP BY ALL`,
    by.includes('model') || by.includes('compute') || efficiency || by.some(ownerKey),
  );
  return rows.map((row) => ({
    clusterId: String(row.cluster_id),
    currency: String(row.currency),
    idle: row.idle === true,
    keys: by.map((_, i) => String(row[`k${i}`])),
    cost: BigInt(String(row.cost)),
    ...(served ? { served: servedOfSums(row) } : {}),
    ...(efficiency ? { efficiency: efficiencyOfSums(row) } : {}),
    bucketMs: bucketing === undefined ? 0 : Number(row.bucket),
  }));
}

/** served.ts's sums in SQL: tokens only from rows with both counts; sums of BIGINT are HUGEINT, exact. */
const TOKEN_ROWS = 'prompt_tokens IS NOT NULL AND generated_tokens IS NOT NULL';
const SERVED_SUMS =
  `, ${nanos(`coalesce(sum(cost) FILTER (WHERE ${TOKEN_ROWS}), 0)`)} AS token_cost` +
  `, CAST(sum(prompt_tokens) FILTER (WHERE ${TOKEN_ROWS}) AS VARCHAR) AS prompt_tokens` +
  `, CAST(sum(generated_tokens) FILTER (WHERE ${TOKEN_ROWS}) AS VARCHAR) AS generated_tokens` +
  `, ${nanos('coalesce(sum(cost) FILTER (WHERE requests IS NOT NULL), 0)')} AS request_cost` +
  ', CAST(sum(requests) AS VARCHAR) AS requests';

/** efficiency.ts's workloadClass in SQL: the label when valid, else by kind and series; NULL for idle rows. */
function classified(files: string): string {
  const label = `json_extract_string(labels, ${sqlString(`$."${WORKLOAD_CLASS_LABEL}"`)})`;
  const valid = WORKLOAD_CLASSES.map(sqlString).join(', ');
  return (
    `(SELECT *, CASE WHEN workload_kind = 'Node' THEN NULL WHEN ${label} IN (${valid}) THEN ${label} ` +
    "WHEN workload_kind = 'Job' THEN 'training' WHEN served_models IS NULL THEN 'development' ELSE 'inference' END " +
    `AS workload_class FROM ${files})`
  );
}

const gpuHoursWhere = (condition: string) => nanos(`coalesce(sum(gpu_hours) FILTER (WHERE ${condition}), 0)`);
const costOf = (cls: string) => nanos(`coalesce(sum(cost) FILTER (WHERE workload_class = '${cls}'), 0)`);
const EFFICIENCY_SUMS =
  `, ${costOf('training')} AS training_cost, ${costOf('inference')} AS inference_cost` +
  `, ${costOf('development')} AS development_cost, ${nanos('sum(gpu_hours)')} AS gpu_hours` +
  `, ${gpuHoursWhere(`workload_kind <> 'Node' AND utilization < ${LOW_UTILIZATION}`)} AS low_gpu_hours` +
  `, ${gpuHoursWhere("workload_kind <> 'Node' AND utilization IS NULL")} AS unmeasured_gpu_hours` +
  `, ${gpuHoursWhere("workload_class = 'inference'")} AS endpoint_gpu_hours` +
  `, ${gpuHoursWhere("workload_class = 'inference' AND (coalesce(requests, 0) > 0 OR coalesce(utilization, 0) > 0)")} AS used_gpu_hours`;

function efficiencyOfSums(row: Record<string, unknown>): Efficiency {
  const n = (v: unknown) => BigInt(String(v));
  return {
    trainingCost: n(row.training_cost),
    inferenceCost: n(row.inference_cost),
    developmentCost: n(row.development_cost),
    gpuHours: n(row.gpu_hours),
    lowUtilizationGpuHours: n(row.low_gpu_hours),
    unmeasuredGpuHours: n(row.unmeasured_gpu_hours),
    endpointGpuHours: n(row.endpoint_gpu_hours),
    endpointUsedGpuHours: n(row.used_gpu_hours),
  };
}

function servedOfSums(row: Record<string, unknown>): Served {
  // getRowObjectsJson gives a HUGEINT as a string of digits.
  const count = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? BigInt(v) : null);
  return {
    tokenCost: BigInt(String(row.token_cost)),
    promptTokens: count(row.prompt_tokens),
    generatedTokens: count(row.generated_tokens),
    requestCost: BigInt(String(row.request_cost)),
    requests: count(row.requests),
  };
}

export async function runsDuckDb(
  duckdb: DuckDb,
  store: LedgerStore,
  directory: string,
  scope: Scope,
): Promise<RunSum[]> {
  const measured = 'utilization IS NOT NULL';
  const rows = await query(
    duckdb,
    store,
    directory,
    scope,
    (files) => `SELECT cluster_id, workload_uid, currency,
        arg_max(namespace, window_end) AS namespace, arg_max(workload_name, window_end) AS name,
        arg_max(team, window_end) AS team, arg_max(experiment, window_end) AS experiment,
        arg_max(job_outcome, window_end) AS outcome,
        CAST(epoch_ms(min(window_start)) AS VARCHAR) AS first_start, CAST(epoch_ms(max(window_end)) AS VARCHAR) AS last_end,
        ${nanos('sum(gpu_hours)')} AS gpu_hours, ${nanos('sum(idle_gpu_cost)')} AS idle_gpu_cost, ${nanos('sum(cost)')} AS cost,
        coalesce(sum(utilization * CAST(gpu_hours AS DOUBLE) * 1e9) FILTER (WHERE ${measured}), 0) AS utilization_weighted,
        coalesce(sum(CAST(gpu_hours AS DOUBLE) * 1e9) FILTER (WHERE ${measured}), 0) AS measured_gpu_hours
      FROM ${files} WHERE ${where(scope, ["workload_kind = 'Job'"])}
      GROUP BY cluster_id, workload_uid, currency`,
  );
  return rows.map((row) => ({
    clusterId: String(row.cluster_id),
    uid: String(row.workload_uid),
    namespace: String(row.namespace),
    name: String(row.name),
    team: String(row.team),
    experiment: String(row.experiment),
    currency: String(row.currency),
    firstStartMs: Number(row.first_start),
    lastEndMs: Number(row.last_end),
    outcome: String(row.outcome) as JobOutcome,
    gpuHours: BigInt(String(row.gpu_hours)),
    idleGpuCost: BigInt(String(row.idle_gpu_cost)),
    cost: BigInt(String(row.cost)),
    utilizationWeighted: Number(row.utilization_weighted),
    measuredGpuHours: Number(row.measured_gpu_hours),
  }));
}
