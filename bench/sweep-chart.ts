/**
 * The chart of `npm run bench:sweep` (issue #20): RSS and cycle time of the controller bench against the
 * number of pods, with the targets drawn, as a self-contained SVG (no library: a few lines and labels), and
 * the least-squares line that says what grows with pods and what is fixed.
 */

/** One controller bench run, as `BENCH_JSON` writes it (bench/controller-bench.ts). */
export interface SweepPoint {
  readonly nodes: number;
  readonly pods: number;
  readonly rssSteadyMb: number;
  readonly rssPeakMb: number;
  readonly cycleMedianMs: number;
  readonly cycleMaxMs: number;
  readonly cpuPerCycleMs: number;
  readonly coldStartS: number;
}

/** y = fixed + perThousandPods × pods / 1000, by least squares. */
export interface Line {
  readonly fixed: number;
  readonly perThousandPods: number;
}

export function fitLine(points: readonly { x: number; y: number }[]): Line {
  const n = points.length;
  if (n === 0) return { fixed: NaN, perThousandPods: NaN };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { fixed: my - slope * mx, perThousandPods: slope * 1000 };
}

/** The memory a cluster of `pods` needs by the steady-RSS line, with the peak's margin over it. */
export function memoryFor(points: readonly SweepPoint[], pods: number): number {
  const steady = fitLine(points.map((p) => ({ x: p.pods, y: p.rssSteadyMb })));
  const margin = Math.max(0, ...points.map((p) => p.rssPeakMb - p.rssSteadyMb));
  return steady.fixed + (steady.perThousandPods * pods) / 1000 + margin;
}

interface Series {
  readonly name: string;
  readonly colour: string;
  readonly values: readonly number[];
}

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
  readonly targets: readonly { readonly label: string; readonly value: number }[];
}

const W = 420;
const H = 300;
const PAD = { left: 56, right: 16, top: 34, bottom: 44 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A round step giving about five ticks up to `max`. */
export function tickStep(max: number): number {
  const raw = max / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
}

function panel(p: Panel, pods: readonly number[], dx: number): string {
  const maxX = Math.max(...pods);
  const maxY = Math.max(...p.series.flatMap((s) => s.values), ...p.targets.map((t) => t.value)) * 1.1;
  const step = tickStep(maxY);
  const top = Math.ceil(maxY / step) * step;
  const x = (v: number) => dx + PAD.left + (v / maxX) * (W - PAD.left - PAD.right);
  const y = (v: number) => PAD.top + (1 - v / top) * (H - PAD.top - PAD.bottom);
  const out: string[] = [
    `<text x="${dx + W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(maxX)}" y2="${y(0)}" stroke="#333"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(0)}" y2="${y(top)}" stroke="#333"/>`,
  ];
  for (let v = 0; v <= top + 1e-9; v += step)
    out.push(
      `<line x1="${x(0)}" y1="${y(v).toFixed(1)}" x2="${x(maxX)}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${x(0) - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${+v.toFixed(6)}</text>`,
    );
  for (const v of pods)
    out.push(`<text x="${x(v).toFixed(1)}" y="${y(0) + 16}" text-anchor="middle">${v.toLocaleString('en')}</text>`);
  out.push(`<text x="${dx + W / 2}" y="${H - 8}" text-anchor="middle">pods (${p.unit} on the left axis)</text>`);
  for (const t of p.targets)
    out.push(
      `<line x1="${x(0)}" y1="${y(t.value).toFixed(1)}" x2="${x(maxX)}" y2="${y(t.value).toFixed(1)}" stroke="#c00" stroke-dasharray="5,4"/>`,
      `<text x="${x(maxX) - 2}" y="${(y(t.value) - 4).toFixed(1)}" text-anchor="end" fill="#c00">${esc(t.label)}</text>`,
    );
  p.series.forEach((s, i) => {
    const pts = s.values.map((v, j) => `${x(pods[j] ?? 0).toFixed(1)},${y(v).toFixed(1)}`);
    out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    for (const pt of pts) {
      const [cx, cy] = pt.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.colour}"/>`);
    }
    out.push(`<text x="${x(0) + 8}" y="${PAD.top + 14 + i * 14}" fill="${s.colour}">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Two panels: RSS (steady, peak) and cycle time (median, slowest), each against pods, targets dashed. */
export function renderSweepSvg(points: readonly SweepPoint[], caption: string): string {
  const sorted = [...points].sort((a, b) => a.pods - b.pods);
  const pods = sorted.map((p) => p.pods);
  const memory: Panel = {
    title: 'Operator RSS',
    unit: 'MB',
    series: [
      { name: 'steady RSS', colour: '#1f5fbf', values: sorted.map((p) => p.rssSteadyMb) },
      { name: 'peak RSS', colour: '#7a9fd9', values: sorted.map((p) => p.rssPeakMb) },
    ],
    targets: [
      { label: 'steady target 150 MB', value: 150 },
      { label: 'peak target 180 MB', value: 180 },
    ],
  };
  const cycle: Panel = {
    title: 'Accounting cycle',
    unit: 'ms',
    series: [
      { name: 'median', colour: '#2f8f3f', values: sorted.map((p) => p.cycleMedianMs) },
      { name: 'slowest', colour: '#8fc99a', values: sorted.map((p) => p.cycleMaxMs) },
    ],
    targets: [
      { label: 'median target 250 ms', value: 250 },
      { label: 'p99 target 500 ms', value: 500 },
    ],
  };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 24}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    panel(memory, pods, 0),
    panel(cycle, pods, W),
    `<text x="${W}" y="${H + 16}" text-anchor="middle" fill="#555">${esc(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
