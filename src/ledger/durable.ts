/**
 * The writer's cumulatives on the sink, and reading them back on a start or a leader change.
 *
 * - Every window file and piece carries, in its Parquet key-value metadata under CUMULATIVE_KEY, the opening
 *   and closing cumulative of each target with a row in it (about 200 bytes a target).
 * - At each rollover the state snapshot (layout.ts stateKey) holds every target's cumulative at the end of the
 *   window just written, so a start reads one file and the windows written after it, not the whole history.
 *
 * loadLedger resumes from the latest snapshot, then the window files after it, then the pieces of windows
 * without a file: per target, the cumulative with the greatest accountedUntil wins. The open window is the
 * latest one that has only a piece; older pieces (a rollover that never completed) are compacted as they are.
 */
import {
  cumulativeFromJson,
  cumulativeToJson,
  servedToJson,
  storageToJson,
  withServedJson,
  withStorageJson,
  type Cumulative,
} from './cumulative.ts';
import type { SeedTarget, Snapshot, StoredTarget } from './accrual.ts';
import type { LedgerRow } from './row.ts';
import type { LedgerStore, StoredWindow } from './store.ts';

export const CUMULATIVE_KEY = 'aicost.ledger.cumulative';
const STATE_FORMAT = 1;

/**
 * The metadata of a window file or piece with these targets. An inference workload's served counts (issue #17)
 * follow as a fifth and sixth value of its entry, opening and closing, which a reader of before ignores: the
 * cumulatives stay of format 1, and a rollback reads them. Storage costs (issue #18) follow the same way as a
 * seventh and eighth value (the served ones null when there are none).
 */
export function storedTargetsMetadata(targets: readonly StoredTarget[]): Record<string, string> {
  const entries = targets.map((t) => {
    const entry: unknown[] = [t.id, cumulativeToJson(t.opening), cumulativeToJson(t.closing), t.imported ? 1 : 0];
    const closing = servedToJson(t.closing);
    const storage = storageToJson(t.closing);
    if (closing || storage !== null) entry.push(servedToJson(t.opening) ?? null, closing ?? null);
    if (storage !== null) entry.push(storageToJson(t.opening), storage);
    return entry;
  });
  return { [CUMULATIVE_KEY]: JSON.stringify({ v: STATE_FORMAT, targets: entries }) };
}

export function parseStoredTargets(metadata: Readonly<Record<string, string>>): StoredTarget[] {
  const text = metadata[CUMULATIVE_KEY];
  if (text === undefined) return [];
  const parsed = JSON.parse(text) as { v?: unknown; targets?: unknown };
  if (parsed.v !== STATE_FORMAT || !Array.isArray(parsed.targets))
    throw new Error(`${CUMULATIVE_KEY} is not of format ${STATE_FORMAT}`);
  return parsed.targets.map((entry: unknown) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new Error(`${CUMULATIVE_KEY} has a bad entry`);
    const served = (json: unknown) => (json === null ? undefined : json);
    return {
      id: entry[0],
      opening: withStorageJson(withServedJson(cumulativeFromJson(entry[1]), served(entry[4])), entry[6]),
      closing: withStorageJson(withServedJson(cumulativeFromJson(entry[2]), served(entry[5])), entry[7]),
      imported: entry[3] === 1,
    };
  });
}

/** The snapshot; served counts and storage costs in objects of their own, which a reader of before ignores. */
export function snapshotJson(clusterId: string, snapshot: Snapshot): string {
  const targets: Record<string, unknown> = {};
  const served: Record<string, unknown> = {};
  const storage: Record<string, string> = {};
  for (const [id, c] of snapshot.targets) {
    targets[id] = cumulativeToJson(c);
    const counts = servedToJson(c);
    if (counts) served[id] = counts;
    const stored = storageToJson(c);
    if (stored !== null) storage[id] = stored;
  }
  return JSON.stringify({ format: STATE_FORMAT, clusterId, throughMs: snapshot.throughMs, targets, served, storage });
}

export function parseSnapshot(text: string): Snapshot {
  const parsed = JSON.parse(text) as {
    format?: unknown;
    throughMs?: unknown;
    targets?: unknown;
    served?: unknown;
    storage?: unknown;
  };
  if (parsed.format !== STATE_FORMAT) throw new Error(`the state snapshot is not of format ${STATE_FORMAT}`);
  if (typeof parsed.throughMs !== 'number' || !Number.isSafeInteger(parsed.throughMs))
    throw new Error('the state snapshot has no throughMs');
  if (typeof parsed.targets !== 'object' || parsed.targets === null)
    throw new Error('the state snapshot has no targets');
  const served = (typeof parsed.served === 'object' && parsed.served !== null ? parsed.served : {}) as Record<
    string,
    unknown
  >;
  const storage = (typeof parsed.storage === 'object' && parsed.storage !== null ? parsed.storage : {}) as Record<
    string,
    unknown
  >;
  const targets = new Map<string, Cumulative>();
  for (const [id, json] of Object.entries(parsed.targets)) {
    const c = withServedJson(cumulativeFromJson(json), Object.hasOwn(served, id) ? served[id] : undefined);
    targets.set(id, withStorageJson(c, Object.hasOwn(storage, id) ? storage[id] : undefined));
  }
  return { throughMs: parsed.throughMs, targets };
}

export interface LoadedLedger {
  /** Nothing at all for this cluster: a first start (annotations may be imported once). */
  readonly empty: boolean;
  readonly openWindowStartSeconds: number | undefined;
  readonly targets: ReadonlyMap<string, SeedTarget>;
  /** Windows left as pieces under a later window's piece: to be written as files, as they are. */
  readonly compactLater: readonly { readonly windowStartMs: number; readonly rows: LedgerRow[] }[];
}

/** Reads what a restart resumes from (see the file comment). `nowMs` bounds the listing of date partitions. */
export async function loadLedger(
  store: LedgerStore,
  clusterId: string,
  windowSeconds: number,
  nowMs: number,
): Promise<LoadedLedger> {
  const stateText = await store.readState(clusterId);
  const snapshot = stateText === undefined ? undefined : parseSnapshot(stateText);
  const listed = snapshot
    ? await store.windowsFrom(clusterId, snapshot.throughMs, Math.max(nowMs, snapshot.throughMs) + 1)
    : await store.windows(clusterId);
  const best = new Map<string, Cumulative>(snapshot?.targets);
  const take = (id: string, c: Cumulative) => {
    const known = best.get(id);
    if (!known || c.accountedUntil > known.accountedUntil) best.set(id, c);
  };
  const files = listed.filter((w) => w.pieceId === undefined);
  const compacted = new Set(files.map((w) => w.windowStartMs));
  let openStartMs = snapshot?.throughMs;
  for (const file of files) {
    const metadata = await store.readMetadata(file.key);
    for (const t of parseStoredTargets(metadata ?? {})) take(t.id, t.closing);
  }
  const pieces = listed.filter((w) => w.pieceId !== undefined && !compacted.has(w.windowStartMs));
  const openPieces = latestWindowPieces(pieces);
  const compactLater: { windowStartMs: number; rows: LedgerRow[] }[] = [];
  for (const piece of pieces.filter((p) => !openPieces.includes(p))) {
    const read = await store.readFile(piece.key);
    if (!read) continue;
    for (const t of parseStoredTargets(read.metadata)) take(t.id, t.closing);
    compactLater.push({ windowStartMs: piece.windowStartMs, rows: read.rows });
  }
  const openings = new Map<string, Cumulative>();
  const rows = new Map<string, LedgerRow>();
  for (const piece of openPieces) {
    openStartMs = piece.windowStartMs;
    const read = await store.readFile(piece.key);
    if (!read) continue;
    const stored = parseStoredTargets(read.metadata);
    const byId = rowsByTarget(read.rows, new Set(stored.map((t) => t.id)));
    for (const t of stored) {
      take(t.id, t.closing);
      openings.set(t.id, t.opening);
      const row = byId.get(t.id);
      if (row) rows.set(t.id, row);
    }
  }
  const lastFile = files.at(-1);
  if (openPieces.length === 0 && lastFile)
    openStartMs = Math.max(openStartMs ?? 0, lastFile.windowStartMs + windowSeconds * 1000);
  const targets = new Map<string, SeedTarget>();
  for (const [id, closing] of best)
    targets.set(id, { opening: openings.get(id) ?? closing, closing, row: rows.get(id) });
  return {
    empty: snapshot === undefined && listed.length === 0,
    openWindowStartSeconds: openStartMs === undefined ? undefined : openStartMs / 1000,
    targets,
    compactLater: mergeCompactions(compactLater),
  };
}

/**
 * Each stored target's row. A workload retired under its uid (`Kind/namespace/name#uid`, a name that now
 * belongs to another object: accrual.ts retire) has the row of that uid; the live target of the name has the
 * other one.
 */
function rowsByTarget(rows: readonly LedgerRow[], ids: ReadonlySet<string>): Map<string, LedgerRow> {
  const byId = new Map<string, LedgerRow>();
  for (const row of rows) {
    const id = targetIdOfRow(row);
    const retired = `${id}#${row.workloadUid}`;
    byId.set(ids.has(retired) ? retired : id, row);
  }
  return byId;
}

/** The pieces of the latest window among them. */
function latestWindowPieces(pieces: readonly StoredWindow[]): StoredWindow[] {
  const latest = Math.max(...pieces.map((p) => p.windowStartMs));
  return pieces.filter((p) => p.windowStartMs === latest);
}

/** Several pieces of one old window (writers with other ids): the rows of each target once, the latest. */
function mergeCompactions(
  items: readonly { windowStartMs: number; rows: LedgerRow[] }[],
): { windowStartMs: number; rows: LedgerRow[] }[] {
  const byWindow = new Map<number, Map<string, LedgerRow>>();
  for (const { windowStartMs, rows } of items) {
    let map = byWindow.get(windowStartMs);
    if (!map) byWindow.set(windowStartMs, (map = new Map<string, LedgerRow>()));
    for (const row of rows) map.set(row.workloadUid, row);
  }
  return [...byWindow].map(([windowStartMs, map]) => ({ windowStartMs, rows: [...map.values()] }));
}

/**
 * The target a row belongs to: a workload by kind and name (its ledger outlives a re-created object's uid, as
 * the accountant's does), a bare pod by uid, a node by name.
 */
export function targetIdOfRow(
  row: Pick<LedgerRow, 'workloadKind' | 'namespace' | 'workloadName' | 'workloadUid'>,
): string {
  if (row.workloadKind === 'Node') return `Node/${row.workloadName}`;
  if (row.workloadKind === 'Pod') return `Pod/${row.workloadUid}`;
  return `${row.workloadKind}/${row.namespace}/${row.workloadName}`;
}
