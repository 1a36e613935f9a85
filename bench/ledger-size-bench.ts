/**
 * npm run bench:ledger-size: the size on disk of a month of a 1,000-node / 20,000-pod cluster's ledger.
 *
 * 1. The report bench's month (report-ledger.ts, in BENCH_DIR: generated once, reused): `du -sb` and bytes a row.
 * 2. The same shape with rows like the operator's own (realistic-ledger.ts), BENCH_SAMPLE_WINDOWS hourly windows
 *    (default 24) into <BENCH_DIR>-realistic, scaled to the month: every window is a file of its own, so a
 *    month is the windows' sizes added up.
 *
 * Target (issue #15; docs/ledger.md): a month of such a cluster stays under 1 GB.
 */
import { spawnSync } from 'node:child_process';
import { benchLedger, ensureLedger, type LedgerShape } from './report-ledger.ts';
import { realisticRows } from './realistic-ledger.ts';

const TARGET_BYTES = 1e9;

/** Apparent size of everything under `dir`, in bytes, as `du -sb` counts it. */
function duBytes(dir: string): number {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`du -sb ${dir} failed: ${r.stderr}`);
  return Number(r.stdout.split('\t')[0]);
}

function report(what: string, bytes: number, shape: LedgerShape, windows: number): number {
  const rows = windows * (shape.pods + shape.nodes);
  const month = (bytes / windows) * shape.windows;
  console.log(
    `${what}: ${bytes.toLocaleString('en')} bytes for ${windows} windows of ${shape.pods + shape.nodes} rows ` +
      `(${(bytes / rows).toFixed(1)} bytes a row); a month of ${shape.windows} windows: ${(month / 1e6).toFixed(0)} MB`,
  );
  return month;
}

const { shape, dir } = benchLedger();
console.log(`ledger: ${dir} (${shape.nodes} nodes, ${shape.pods} workloads, ${shape.windows} hourly windows)`);
const generated = await ensureLedger(dir, shape);
console.log(generated > 0 ? `generated in ${generated.toFixed(0)} s` : 'reusing the generated ledger');
const benchMonth = report('report bench rows', duBytes(dir), shape, shape.windows);

const sampleWindows = Number(process.env.BENCH_SAMPLE_WINDOWS ?? 24);
const sample = { ...shape, windows: sampleWindows };
const realisticDir = `${dir}-realistic`;
await ensureLedger(realisticDir, sample, console.log, realisticRows);
const realisticMonth = report('operator-like rows', duBytes(realisticDir), shape, sampleWindows);

const worst = Math.max(benchMonth, realisticMonth);
console.log(`target: a month under ${TARGET_BYTES / 1e9} GB: ${worst < TARGET_BYTES ? 'met' : 'MISSED'}`);
if (worst >= TARGET_BYTES) process.exitCode = 1;
