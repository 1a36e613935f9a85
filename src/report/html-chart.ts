/**
 * A Chart (html-model.ts) as hand-written inline SVG: one stacked bar per bucket, one <rect> per segment with
 * a <title> that states its exact amount. Amounts become pixels here and only here, through floats; every
 * number written as text is a decimal string of the exact sum. No library: a page that must work offline and
 * be read by a test is simpler to write than to configure.
 */
import { decimal } from './format.ts';
import { escapeHtml } from './html-escape.ts';
import type { Bar, Chart, Series } from './html-model.ts';
import type { Bucketing } from './timeline.ts';

/** The drawing's size in SVG units (it scales to the page's width). */
export const GEOMETRY = { width: 960, height: 320, left: 40, right: 16, top: 20, bottom: 40 } as const;
/** At most this many labels under the bars; the others are in the bars' titles. */
const MAX_AXIS_LABELS = 12;

/** The CSS class that colours a series: s0, s1, ... for keys, `s-more` and `s-idle` for the rest. */
export function seriesClass(series: Series, index: number): string {
  return series.kind === 'key' ? `s${index}` : `s-${series.kind}`;
}

/** Pixels, to two decimals: enough for a screen, and the same text on every machine. */
const px = (n: number) => String(Math.round(n * 100) / 100);

export function chartSvg(chart: Chart, bucketing: Bucketing): string {
  const { width, height, left, right, top, bottom } = GEOMETRY;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const max = chart.bars.reduce((m, bar) => (bar.total > m ? bar.total : m), 0n);
  const slot = chart.bars.length > 0 ? plotWidth / chart.bars.length : plotWidth;
  // Thin bars for a month of days, not slabs for three windows.
  const barWidth = Math.min(Math.max(1, slot * 0.72), 72);
  const every = Math.ceil(chart.bars.length / MAX_AXIS_LABELS);
  const unit = bucketing === 'day' ? 'day' : 'window';
  const parts = [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" ` +
      `aria-label="${escapeHtml(`Cost per ${unit} in ${chart.currency}`)}" data-bars="${countBars(chart)}">`,
    axis(chart, max),
  ];
  chart.bars.forEach((bar, i) => {
    const x = left + i * slot + (slot - barWidth) / 2;
    parts.push(barGroup(chart, bar, x, barWidth, max, plotHeight));
    if (i % every === 0) {
      const text = bucketing === 'day' ? bar.label.slice(5) : bar.label.slice(11);
      parts.push(`<text class="x" x="${px(x + barWidth / 2)}" y="${height - bottom + 18}">${escapeHtml(text)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The number of <rect class="bar"> a chart draws: one per positive segment. */
export function countBars(chart: Chart): number {
  return chart.bars.reduce((n, bar) => n + bar.segments.length, 0);
}

/** The base line with 0, and a line at the tallest bar with its exact amount above it. */
function axis(chart: Chart, max: bigint): string {
  const { width, height, left, right, top, bottom } = GEOMETRY;
  const base = height - bottom;
  const lines = [
    `<line class="grid" x1="${left}" y1="${top}" x2="${width - right}" y2="${top}"/>`,
    `<line class="base" x1="${left}" y1="${base}" x2="${width - right}" y2="${base}"/>`,
    `<text class="y" x="${left - 8}" y="${base + 4}">0</text>`,
  ];
  if (max > 0n)
    lines.push(
      `<text class="max" x="${left}" y="${top - 6}">${escapeHtml(`${decimal(max)} ${chart.currency}`)}</text>`,
    );
  return `<g class="axis">${lines.join('')}</g>`;
}

/** One bucket's stack, from the base line up, the first series at the bottom. */
function barGroup(chart: Chart, bar: Bar, x: number, barWidth: number, max: bigint, plotHeight: number): string {
  const base = GEOMETRY.height - GEOMETRY.bottom;
  const scale = max > 0n ? plotHeight / Number(max) : 0;
  let below = 0n;
  const rects = bar.segments.map(({ series, cost }) => {
    const y0 = base - Number(below) * scale;
    below += cost;
    const y1 = base - Number(below) * scale;
    const s = chart.series[series] ?? { label: '', kind: 'more' as const, cost: 0n };
    const title = `${s.label} · ${bar.label}: ${decimal(cost)} ${chart.currency}`;
    return (
      `<rect class="bar ${seriesClass(s, series)}" data-series="${series}" x="${px(x)}" y="${px(y1)}" ` +
      `width="${px(barWidth)}" height="${px(Math.max(y0 - y1, 0.5))}"><title>${escapeHtml(title)}</title></rect>`
    );
  });
  const total = `${bar.label}: ${decimal(bar.total)} ${chart.currency}`;
  return `<g class="bucket" data-bucket="${escapeHtml(bar.label)}"><title>${escapeHtml(total)}</title>${rects.join('')}</g>`;
}
