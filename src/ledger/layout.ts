/**
 * Where ledger windows live in a sink: Hive-style partitions that DuckDB, Trino, Spark and Athena prune by.
 *
 *   cluster=<id>/date=<YYYY-MM-DD>/window-<YYYYMMDDTHHMMSSZ>.parquet               one file per window
 *   cluster=<id>/date=<YYYY-MM-DD>/window-<YYYYMMDDTHHMMSSZ>.<piece>.piece          in-progress pieces
 *   state/cluster=<id>/cumulative.json                                               the writer's state snapshot
 *   state/cluster=<id>/retention.json                                                the last retention pass
 *
 * The key is a function of the cluster and the window start (and the piece id), so writing a window again
 * replaces it and never adds a second copy. The date is the window start's UTC date. Pieces end in `.piece`,
 * not `.parquet`, so DuckDB's read_parquet over every `*.parquet` below the root (hive_partitioning = true)
 * reads only whole windows, with `cluster` and `date` as columns; a piece is itself a Parquet file, and the store reads a window's pieces only while the window has
 * no file of its own (writing the window's file is the compaction, and deletes the pieces after).
 */

/**
 * Lower case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63: safe in a path,
 * an S3 key and a Hive partition value; lower case because object stores are case-sensitive and some file
 * systems and Hive engines are not. The default id, the kube-system namespace's uid, is such a string.
 */
const CLUSTER_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** A piece id: the writer's choice (say the interval start, or the replica), bounded and path-safe. */
const PIECE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const KEY =
  /^cluster=([^/]+)\/date=(\d{4}-\d{2}-\d{2})\/window-(\d{8}T\d{6}Z)(?:\.parquet|\.([a-z0-9][a-z0-9-]{0,62})\.piece)$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function isClusterId(id: string): boolean {
  return CLUSTER_ID.test(id);
}

/** What a ledger key names. */
export interface WindowKey {
  readonly clusterId: string;
  readonly windowStartMs: number;
  /** Absent for a window's own file. */
  readonly pieceId?: string;
}

export function clusterPrefix(clusterId: string): string {
  return `cluster=${checkedClusterId(clusterId)}/`;
}

export function datePrefix(clusterId: string, date: string): string {
  return `${clusterPrefix(clusterId)}date=${date}/`;
}

export function windowKey(clusterId: string, windowStartMs: number): string {
  return `${windowBase(clusterId, windowStartMs)}.parquet`;
}

/**
 * The writer's state snapshot: every target's cumulative at the end of the last finished window. Under
 * `state/`, apart from the windows, so that no reader of `cluster=` partitions ever sees it.
 */
export function stateKey(clusterId: string): string {
  return `state/${clusterPrefix(clusterId)}cumulative.json`;
}

/** When the retention pass last ran (retention.ts), so that a new leader does not run it again the same day. */
export function retentionKey(clusterId: string): string {
  return `state/${clusterPrefix(clusterId)}retention.json`;
}

export function pieceKey(clusterId: string, windowStartMs: number, pieceId: string): string {
  if (!PIECE_ID.test(pieceId)) throw new Error(`"${pieceId}" is not a piece id (lower case letters, digits and '-')`);
  return `${windowBase(clusterId, windowStartMs)}.${pieceId}.piece`;
}

/** The window or piece a key names; undefined for any other key (foreign files are left alone). */
export function parseKey(key: string): WindowKey | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const [, clusterId = '', date = '', compact = '', pieceId] = match;
  const windowStartMs = fromCompact(compact);
  if (!isClusterId(clusterId) || windowStartMs === undefined || utcDate(windowStartMs) !== date) return undefined;
  return pieceId === undefined ? { clusterId, windowStartMs } : { clusterId, windowStartMs, pieceId };
}

/** The UTC date of an instant, YYYY-MM-DD: the partition a window starting then lives in. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const DAY_MS = 86_400_000;

/** The UTC dates that windows starting in [fromMs, toMs) can live in, oldest first. */
export function datesInRange(fromMs: number, toMs: number): string[] {
  const dates: string[] = [];
  if (fromMs >= toMs) return dates;
  for (let day = Math.floor(fromMs / DAY_MS) * DAY_MS; day < toMs; day += DAY_MS) dates.push(utcDate(day));
  return dates;
}

function windowBase(clusterId: string, windowStartMs: number): string {
  if (!Number.isSafeInteger(windowStartMs) || windowStartMs < 0 || windowStartMs % 1000 !== 0)
    throw new RangeError(`window start ${windowStartMs} is not a whole second since the epoch`);
  return `${datePrefix(clusterId, utcDate(windowStartMs))}window-${toCompact(windowStartMs)}`;
}

/** RFC 3339 in its basic form (no '-' or ':', which some tools mishandle in names), to the second. */
function toCompact(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('.000Z', 'Z');
}

function fromCompact(text: string): number | undefined {
  const m = COMPACT.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  // Date.parse accepts 2026-02-30; only a round trip proves the text is a real instant.
  return Number.isFinite(ms) && toCompact(ms) === text ? ms : undefined;
}

function checkedClusterId(clusterId: string): string {
  if (!isClusterId(clusterId))
    throw new Error(
      `"${clusterId}" is not a cluster id (lower case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63)`,
    );
  return clusterId;
}
