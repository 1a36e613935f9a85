/**
 * The ledger on a sink: one Parquet file per cluster and window (layout.ts), written whole and replaced
 * whole, so writing a window twice counts it once. Reading streams one window at a time, so a month of a
 * large cluster never sits in memory at once.
 *
 * A window being accrued may be kept as pieces (writePiece: disjoint parts of it, such as one accounting
 * interval each). Writing the window's own file is their compaction: readers take a window's file whenever
 * it exists and its pieces only when it does not, and writeWindow deletes the pieces after the file is in
 * place, so a reader sees the rows once at every moment.
 */
import {
  clusterPrefix,
  datePrefix,
  datesInRange,
  isClusterId,
  parseKey,
  pieceKey,
  retentionKey,
  stateKey,
  windowKey,
} from './layout.ts';
import type { WindowKey } from './layout.ts';
import { decodeMetadata, decodeRows, encodeRows } from './parquet.ts';
import { rowProblems, type LedgerRow } from './row.ts';
import type { ObjectSink } from './sink.ts';

/** Windows whose start is in [fromMs, toMs), of one cluster or of all. */
export interface LedgerRange {
  readonly fromMs: number;
  readonly toMs: number;
  readonly clusterId?: string | undefined;
}

/** A window's file or one of its pieces, as listed. */
export interface StoredWindow extends WindowKey {
  readonly key: string;
}

export interface WindowRows {
  readonly clusterId: string;
  readonly windowStartMs: number;
  /** False while the window is only pieces (the current window, before its file is written). */
  readonly compacted: boolean;
  readonly rows: LedgerRow[];
}

export class LedgerStore {
  private readonly sink: ObjectSink;

  constructor(sink: ObjectSink) {
    this.sink = sink;
  }

  get url(): string {
    return this.sink.url;
  }

  /**
   * Writes the window's file, replacing any earlier one and deleting its pieces. Returns the key. `metadata`
   * goes into the file's key-value metadata (see encodeRows).
   */
  async writeWindow(
    clusterId: string,
    windowStartMs: number,
    rows: readonly LedgerRow[],
    metadata?: Readonly<Record<string, string>>,
  ): Promise<string> {
    checkWindowRows(clusterId, windowStartMs, rows);
    const key = windowKey(clusterId, windowStartMs);
    await this.sink.put(key, encodeRows(rows, metadata));
    for (const piece of await this.pieces(clusterId, windowStartMs)) await this.sink.delete(piece);
    return key;
  }

  /** Writes (or replaces) one piece of a window that has no file yet. Returns the key. */
  async writePiece(
    clusterId: string,
    windowStartMs: number,
    pieceId: string,
    rows: readonly LedgerRow[],
    metadata?: Readonly<Record<string, string>>,
  ): Promise<string> {
    checkWindowRows(clusterId, windowStartMs, rows);
    const key = pieceKey(clusterId, windowStartMs, pieceId);
    await this.sink.put(key, encodeRows(rows, metadata));
    return key;
  }

  /** A window's file or piece as listed: its rows and key-value metadata; undefined when it is gone. */
  async readFile(key: string): Promise<{ rows: LedgerRow[]; metadata: Record<string, string> } | undefined> {
    const body = await this.sink.get(key);
    if (body === undefined) return undefined;
    return { rows: await this.decode(key, body), metadata: this.decodeMetadata(key, body) };
  }

  /** Only the key-value metadata of a window's file or piece; undefined when it is gone. */
  async readMetadata(key: string): Promise<Record<string, string> | undefined> {
    const body = await this.sink.get(key);
    return body === undefined ? undefined : this.decodeMetadata(key, body);
  }

  /** The window files and pieces of a cluster whose window starts at or after `fromMs`, by date partition. */
  async windowsFrom(clusterId: string, fromMs: number, toMs: number): Promise<StoredWindow[]> {
    return (await this.listDates(clusterId, fromMs, toMs)).filter((w) => w.windowStartMs >= fromMs);
  }

  /** Replaces the writer's state snapshot (layout.ts stateKey). */
  async writeState(clusterId: string, json: string): Promise<void> {
    await this.sink.put(stateKey(clusterId), new TextEncoder().encode(json));
  }

  /** The writer's state snapshot; undefined when there is none. */
  async readState(clusterId: string): Promise<string | undefined> {
    const body = await this.sink.get(stateKey(clusterId));
    return body === undefined ? undefined : new TextDecoder().decode(body);
  }

  /** The record of the last retention pass (retention.ts); undefined when none ran. */
  async readRetention(clusterId: string): Promise<string | undefined> {
    const body = await this.sink.get(retentionKey(clusterId));
    return body === undefined ? undefined : new TextDecoder().decode(body);
  }

  async writeRetention(clusterId: string, json: string): Promise<void> {
    await this.sink.put(retentionKey(clusterId), new TextEncoder().encode(json));
  }

  /**
   * Deletes the window files and pieces of one date partition of a cluster (pieces first, so no reader sees a
   * window's pieces stand in for its deleted file); other objects there are not the ledger's and stay.
   * Returns how many were deleted.
   */
  async deleteDate(clusterId: string, date: string): Promise<number> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`"${date}" is not a date partition (YYYY-MM-DD)`);
    const stored = parsed(await this.sink.list(datePrefix(clusterId, date)));
    const keys = [...stored.filter((w) => w.pieceId !== undefined), ...stored.filter((w) => w.pieceId === undefined)];
    for (const { key } of keys) await this.sink.delete(key);
    return keys.length;
  }

  /** Every window file and piece of one cluster or of all, ordered by cluster and window start. */
  async windows(clusterId?: string): Promise<StoredWindow[]> {
    const keys = await this.sink.list(clusterId === undefined ? 'cluster=' : clusterPrefix(clusterId));
    return parsed(keys);
  }

  /**
   * The windows that start in the range, oldest first for each cluster, one at a time. Only the range's date
   * partitions are listed when the cluster is given; only the range's windows are read in every case.
   */
  async *readRange(range: LedgerRange): AsyncGenerator<WindowRows> {
    const { fromMs, toMs, clusterId } = range;
    if (!Number.isSafeInteger(fromMs) || !Number.isSafeInteger(toMs))
      throw new RangeError(`range [${fromMs}, ${toMs}) is not in whole milliseconds`);
    if (clusterId !== undefined && !isClusterId(clusterId)) throw new Error(`"${clusterId}" is not a cluster id`);
    const stored = clusterId === undefined ? await this.windows() : await this.listDates(clusterId, fromMs, toMs);
    const inRange = stored.filter((w) => w.windowStartMs >= fromMs && w.windowStartMs < toMs);
    for (const group of groupByWindow(inRange)) {
      const window = await this.readWindow(group);
      if (window) yield window;
    }
  }

  /**
   * The keys readRange would read, without reading them: for each window in the range its file, or its
   * pieces while it has no file. For readers that open the objects themselves (DuckDB over a directory); a
   * window compacted after this listing has lost its pieces, so such a reader lists again when one is gone.
   */
  async keysInRange(range: LedgerRange): Promise<string[]> {
    const { fromMs, toMs, clusterId } = range;
    if (clusterId !== undefined && !isClusterId(clusterId)) throw new Error(`"${clusterId}" is not a cluster id`);
    const stored = clusterId === undefined ? await this.windows() : await this.listDates(clusterId, fromMs, toMs);
    const keys: string[] = [];
    for (const group of groupByWindow(stored.filter((w) => w.windowStartMs >= fromMs && w.windowStartMs < toMs))) {
      const file = group.find((w) => w.pieceId === undefined);
      keys.push(...(file ? [file.key] : group.map((w) => w.key)));
    }
    return keys;
  }

  private async listDates(clusterId: string, fromMs: number, toMs: number): Promise<StoredWindow[]> {
    const keys: string[] = [];
    for (const date of datesInRange(fromMs, toMs)) keys.push(...(await this.sink.list(datePrefix(clusterId, date))));
    return parsed(keys);
  }

  private async pieces(clusterId: string, windowStartMs: number): Promise<string[]> {
    const stored = await this.listDates(clusterId, windowStartMs, windowStartMs + 1);
    return stored.filter((w) => w.pieceId !== undefined && w.windowStartMs === windowStartMs).map((w) => w.key);
  }

  /** A window from its file, else from its pieces; undefined when it was deleted since it was listed. */
  private async readWindow(group: readonly StoredWindow[]): Promise<WindowRows | undefined> {
    const [first] = group;
    if (!first) return undefined;
    const { clusterId, windowStartMs } = first;
    const file = group.find((w) => w.pieceId === undefined);
    const rows: LedgerRow[] = [];
    if (!file) {
      for (const piece of group) {
        const body = await this.sink.get(piece.key);
        // Gone: the window was compacted since the listing, and its file holds every piece.
        if (body === undefined)
          return this.readWindow([{ clusterId, windowStartMs, key: windowKey(clusterId, windowStartMs) }]);
        rows.push(...(await this.decode(piece.key, body)));
      }
      return { clusterId, windowStartMs, compacted: false, rows };
    }
    const body = await this.sink.get(file.key);
    if (body === undefined) return undefined;
    return { clusterId, windowStartMs, compacted: true, rows: await this.decode(file.key, body) };
  }

  private decodeMetadata(key: string, body: Uint8Array): Record<string, string> {
    try {
      return decodeMetadata(body);
    } catch (cause) {
      throw new Error(`cannot read ${key} in ${this.sink.url}`, { cause });
    }
  }

  private async decode(key: string, body: Uint8Array): Promise<LedgerRow[]> {
    const where = parseKey(key);
    let rows: LedgerRow[];
    try {
      rows = await decodeRows(body);
    } catch (cause) {
      throw new Error(`cannot read ${key} in ${this.sink.url}`, { cause });
    }
    const stray = rows.find((r) => r.clusterId !== where?.clusterId || r.windowStartMs !== where.windowStartMs);
    if (stray)
      throw new Error(`${key} in ${this.sink.url} holds a row of ${stray.clusterId} at ${stray.windowStartMs}`);
    return rows;
  }
}

function parsed(keys: readonly string[]): StoredWindow[] {
  const stored: StoredWindow[] = [];
  for (const key of keys) {
    const window = parseKey(key);
    if (window) stored.push({ ...window, key });
  }
  return stored;
}

/** Listed keys of one window are adjacent: the key starts with the cluster, the date and the window start. */
function* groupByWindow(stored: readonly StoredWindow[]): Generator<StoredWindow[]> {
  let group: StoredWindow[] = [];
  for (const w of stored) {
    const last = group[0];
    if (last && (last.clusterId !== w.clusterId || last.windowStartMs !== w.windowStartMs)) {
      yield group;
      group = [];
    }
    group.push(w);
  }
  if (group.length > 0) yield group;
}

/** Throws unless every row is valid, of this cluster and window, one window long, and once per workload. */
function checkWindowRows(clusterId: string, windowStartMs: number, rows: readonly LedgerRow[]): void {
  const uids = new Set<string>();
  rows.forEach((row, i) => {
    const problems = rowProblems(row);
    if (row.clusterId !== clusterId) problems.push(`clusterId is not ${clusterId}`);
    if (row.windowStartMs !== windowStartMs) problems.push(`windowStartMs is not ${windowStartMs}`);
    if (row.windowEndMs !== rows[0]?.windowEndMs) problems.push(`windowEndMs differs from the first row's`);
    if (uids.has(row.workloadUid)) problems.push(`workloadUid ${row.workloadUid} is in the window twice`);
    uids.add(row.workloadUid);
    if (problems.length > 0)
      throw new Error(`ledger row ${i} of ${clusterId} at ${windowStartMs}: ${problems.join('; ')}`);
  });
}
