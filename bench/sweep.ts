/**
 * npm run bench:sweep: the controller bench (bench/controller-bench.ts) at several fleet sizes, one after the
 * other on the same 1,000 kwok GPU nodes, and the chart of RSS and cycle time against pods (issue #20), so the
 * slope is visible and a user can read off the memory limit for their cluster size.
 *   BENCH_SWEEP (default "2500,5000,10000,20000" pods), BENCH_NODES (default 1000), BENCH_CYCLES (default 6)
 *   --out DIR (default docs/benchmarks): writes sweep.json (the figures) and sweep.svg (the chart)
 *   --from FILE: draws the chart again from a sweep.json, running nothing
 * Each run is a whole controller bench (fleet created, operator started, steady cycles measured, all deleted),
 * so a sweep of the four default sizes takes 20-30 minutes on 2 cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fitLine, memoryFor, renderSweepSvg, type SweepPoint } from './sweep-chart.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { out: { type: 'string', default: join(ROOT, 'docs/benchmarks') }, from: { type: 'string' } },
});
const outDir = resolve(values.out);

interface SweepFile {
  readonly date: string;
  readonly commit: string;
  readonly machine: string;
  readonly points: SweepPoint[];
}

function run(pods: number): SweepPoint {
  const json = join(mkdtempSync(join(tmpdir(), 'aicost-sweep-')), 'point.json');
  console.log(`--- ${pods} pods`);
  const result = spawnSync(process.execPath, [join(ROOT, 'bench/controller-bench.ts')], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, BENCH_PODS: String(pods), BENCH_JSON: json },
  });
  if (result.status !== 0) throw new Error(`the controller bench at ${pods} pods exited ${result.status}`);
  return JSON.parse(readFileSync(json, 'utf8')) as SweepPoint;
}

function describeMachine(): string {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpu)?.[1] ?? 'unknown CPU';
  const cores = cpu.match(/^processor\s*:/gm)?.length ?? 0;
  return `${cores} x ${model}, Node ${process.version}`;
}

let sweep: SweepFile;
if (values.from) {
  sweep = JSON.parse(readFileSync(values.from, 'utf8')) as SweepFile;
} else {
  const sizes = (process.env.BENCH_SWEEP ?? '2500,5000,10000,20000').split(',').map(Number);
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  sweep = { date: new Date().toISOString().slice(0, 10), commit, machine: describeMachine(), points: [] };
  for (const pods of sizes) sweep.points.push(run(pods));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'sweep.json'), `${JSON.stringify(sweep, null, 2)}\n`);
}

const rss = fitLine(sweep.points.map((p) => ({ x: p.pods, y: p.rssSteadyMb })));
const cycle = fitLine(sweep.points.map((p) => ({ x: p.pods, y: p.cycleMedianMs })));
const caption = `${sweep.points[0]?.nodes ?? '?'} GPU nodes; ${sweep.date}, ${sweep.commit}; ${sweep.machine}`;
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'sweep.svg'), renderSweepSvg(sweep.points, caption));
console.log('pods | steady RSS MB | peak RSS MB | cycle median ms | slowest ms | CPU/cycle ms | cold start s');
for (const p of [...sweep.points].sort((a, b) => a.pods - b.pods))
  console.log(
    `${p.pods} | ${p.rssSteadyMb} | ${p.rssPeakMb} | ${p.cycleMedianMs} | ${p.cycleMaxMs} | ${p.cpuPerCycleMs} | ${p.coldStartS}`,
  );
console.log(
  `steady RSS = ${rss.fixed.toFixed(0)} MB fixed + ${rss.perThousandPods.toFixed(1)} MB per 1,000 pods; ` +
    `cycle median = ${cycle.fixed.toFixed(0)} ms + ${cycle.perThousandPods.toFixed(1)} ms per 1,000 pods`,
);
for (const pods of [5000, 20_000, 40_000])
  console.log(
    `memory for ${pods} pods (steady line + the largest peak margin): ${memoryFor(sweep.points, pods).toFixed(0)} MB`,
  );
console.log(`wrote ${join(outDir, 'sweep.svg')}`);
