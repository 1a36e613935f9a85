/**
 * npm run bench:ledger-size: the size on disk of a month of a 1,000-node / 20,000-pod cluster's ledger.
 *
 * Two kinds of rows, each written as BENCH_SAMPLE_WINDOWS hourly windows (default 24; 720 writes the whole
 * month) under <BENCH_DIR>-size/, measured with `du -sb` and scaled to the month (BENCH_WINDOWS, 720): every
 * window is a file of its own, so a month is its windows' sizes added up.
 * - the report bench's rows (report-ledger.ts), which repeat from row to row and compress unusually well;
 * - rows like the operator's own (realistic-ledger.ts): the figure the target is about.
 * BENCH_NODES and BENCH_PODS change the cluster, as for the report bench.
 *
 * Target (issue #15; docs/ledger.md): a month of such a cluster stays under 1.5 GB.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerRow } from '../src/ledger/row.ts';
import { benchLedger, ensureLedger, windowRows, type LedgerShape } from './report-ledger.ts';
import { realisticRows } from './realistic-ledger.ts';

const TARGET_BYTES = 1.5e9;

/** Apparent size of everything under `dir`, in bytes, as `du -sb` counts it. */
function duBytes(dir: string): number {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`du -sb ${dir} failed: ${r.stderr}`);
  return Number(r.stdout.split('\t')[0]);
}

type Rows = (shape: LedgerShape, windowStartMs: number) => LedgerRow[];

/** Writes (or reuses) the sample, prints its size and the month's; returns the month's bytes. */
async function measure(what: string, dir: string, month: LedgerShape, windows: number, rows: Rows): Promise<number> {
  const generated = await ensureLedger(dir, { ...month, windows }, () => undefined, rows);
  const bytes = duBytes(dir);
  const perRow = bytes / (windows * (month.pods + month.nodes));
  const monthBytes = (bytes / windows) * month.windows;
  console.log(
    `${what}: du -sb ${dir} = ${bytes.toLocaleString('en')} bytes for ${windows} windows ` +
      `(${perRow.toFixed(1)} bytes a row${generated > 0 ? `, written in ${generated.toFixed(0)} s` : ', reused'}); ` +
      `a month of ${month.windows} windows: ${(monthBytes / 1e6).toFixed(0)} MB`,
  );
  return monthBytes;
}

const { shape } = benchLedger();
const base = process.env.BENCH_DIR ?? join(tmpdir(), 'aicost-report-bench');
const windows = Number(process.env.BENCH_SAMPLE_WINDOWS ?? 24);
console.log(`${shape.nodes} GPU nodes, ${shape.pods} workloads, ${shape.pods + shape.nodes} rows a window`);
await measure('report bench rows', `${base}-size/bench-rows`, shape, windows, windowRows);
const month = await measure('operator-like rows', `${base}-size/operator-rows`, shape, windows, realisticRows);
console.log(`target: a month under ${TARGET_BYTES / 1e9} GB: ${month < TARGET_BYTES ? 'met' : 'MISSED'}`);
if (month >= TARGET_BYTES) process.exitCode = 1;
