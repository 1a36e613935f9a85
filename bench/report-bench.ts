/**
 * npm run bench:report: `aicost report --by team` over a month of a 1,000-node / 20,000-pod cluster's ledger
 * (hourly windows: 720 files of 21,000 rows, 15.1 million rows), run as a user runs it (a process of
 * src/main.ts), with each engine. The ledger is generated once into a temporary directory and reused.
 *
 * BENCH_DIR (default <tmp>/aicost-report-bench), BENCH_NODES, BENCH_PODS, BENCH_WINDOWS change the ledger;
 * BENCH_RUNS the DuckDB runs (median); BENCH_JS=0 skips the JavaScript engine (minutes at full size).
 * Target (issue #15): a month of such a cluster reported in seconds.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { benchLedger, ensureLedger } from './report-ledger.ts';

const { shape, dir } = benchLedger();
const runs = Number(process.env.BENCH_RUNS ?? 5);
const MAIN = resolve(import.meta.dirname, '../src/main.ts');
const to = new Date(shape.fromMs + shape.windows * 3_600_000).toISOString();

console.log(`ledger: ${dir} (${shape.nodes} nodes, ${shape.pods} workloads, ${shape.windows} hourly windows)`);
const generated = await ensureLedger(dir, shape);
console.log(generated > 0 ? `generated in ${generated.toFixed(0)} s` : 'reusing the generated ledger');

interface Timed {
  readonly seconds: number;
  readonly maxRssMb: number;
  readonly stdout: string;
}

/** One `aicost report` process; wall time and peak RSS (from /usr/bin/time when it is there). */
function report(engine: string): Timed {
  const args = [MAIN, 'report', '--ledger', dir, '--by', 'team', '--from', '2026-11-01', '--to', to];
  const started = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, ...args, '--engine', engine, '--format', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  );
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`aicost report --engine ${engine} failed: ${r.stderr}`);
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  return { seconds, maxRssMb: rssKb / 1024, stdout: r.stdout };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

report('duckdb'); // warm the file cache
const duck = Array.from({ length: runs }, () => report('duckdb'));
console.log(
  `duckdb: median ${median(duck.map((t) => t.seconds)).toFixed(2)} s of ${runs} runs ` +
    `(${duck.map((t) => t.seconds.toFixed(2)).join(', ')}), peak RSS ${Math.max(...duck.map((t) => t.maxRssMb)).toFixed(0)} MB`,
);
if (process.env.BENCH_JS !== '0') {
  const js = report('js');
  console.log(`js: ${js.seconds.toFixed(1)} s, peak RSS ${js.maxRssMb.toFixed(0)} MB`);
  if (js.stdout !== duck[0]?.stdout) throw new Error('the engines disagree');
  console.log('the engines agree to the nano-unit');
}
console.log(duck[0]?.stdout);
