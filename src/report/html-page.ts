/**
 * `aicost report --format html`: one self-contained page. The CSS, the SVG and a few lines of script are
 * inline, and the page's Content-Security-Policy allows nothing else (no fetch, no image, no other script):
 * it opens from a file or an attachment, offline, and a label that slipped past escaping still could not
 * run. The script only reads the drawn page: it counts the bars the browser laid out, records that on
 * <html data-chart-drawn>, and picks out a series when the pointer is on its legend entry.
 */
import { createHash } from 'node:crypto';
import { decimal } from './format.ts';
import { chartSvg, countBars, seriesClass } from './html-chart.ts';
import { escapeHtml } from './html-escape.ts';
import { IDLE } from './aggregate.ts';
import type { Chart, HtmlModel } from './html-model.ts';
import type { IdleMode } from './options.ts';

/** Okabe-Ito-like colours, told apart by most colour-blind readers; `more` and idle are greys. */
const COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];

const STYLE = [
  'body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#1b1b1b}',
  'h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}',
  '.meta{color:#555;margin:0}.total{font-size:1.1rem;margin:.25rem 0}',
  'table{border-collapse:collapse;width:100%}th,td{padding:.25rem .5rem;border-bottom:1px solid #ddd;text-align:left}',
  'th{font-weight:600;background:#f4f4f4}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}',
  'tfoot td{font-weight:600}.empty{color:#555;font-style:italic}',
  'svg.chart{width:100%;height:auto;display:block}svg.chart text{font-size:11px;fill:#444}',
  'svg.chart text.y{text-anchor:end}svg.chart text.max{text-anchor:start}svg.chart text.x{text-anchor:middle}',
  'svg.chart line.base{stroke:#888}svg.chart line.grid{stroke:#ddd;stroke-dasharray:4 4}',
  'rect.bar.dim{opacity:.2}.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}',
  '.legend li{cursor:default}.swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.35rem;vertical-align:-.1rem}',
  ...COLOURS.map((c, i) => `.s${i}{fill:${c};background:${c}}`),
  '.s-more{fill:#bab0ac;background:#bab0ac}.s-idle{fill:#6f6f6f;background:#6f6f6f}',
].join('\n');

const SCRIPT = `(() => {
  const root = document.documentElement;
  const bars = [...document.querySelectorAll('svg.chart rect.bar')];
  const drawn = bars.filter((bar) => {
    const box = bar.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  });
  for (const item of document.querySelectorAll('.legend li[data-series]')) {
    const block = item.closest('.chart-block');
    const pick = (series) => {
      for (const bar of block.querySelectorAll('rect.bar'))
        bar.classList.toggle('dim', series !== null && bar.dataset.series !== series);
    };
    item.addEventListener('mouseenter', () => pick(item.dataset.series));
    item.addEventListener('mouseleave', () => pick(null));
  }
  root.dataset.bars = String(bars.length);
  root.dataset.barsDrawn = String(drawn.length);
  root.dataset.resources = String(performance.getEntriesByType('resource').length);
  root.dataset.chartDrawn = drawn.length === bars.length ? 'yes' : 'no';
})();`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
/** Only this page's own style and script; nothing to fetch, no form to post, no base to move links. */
export const CONTENT_SECURITY_POLICY =
  `default-src 'none'; style-src ${hash(STYLE)}; script-src ${hash(SCRIPT)}; ` +
  "img-src 'none'; base-uri 'none'; form-action 'none'";

export function renderHtmlReport(model: HtmlModel): string {
  const { by } = model.input;
  const title = `GPU spend by ${by.join(', ')}`;
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(`aicost: ${title}`)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${escapeHtml(title)}</h1>${meta(model)}</header>`,
    spendSection(model),
    rowsSection(model),
    workloadsSection(model),
    idleSection(model),
    '<footer><p class="meta">Written by <code>aicost report --format html</code>. Amounts are exact decimals of ' +
      'the ledger; the bars are drawn to scale, their titles give the amounts.</p></footer>',
    `<script>${SCRIPT}</script>`,
    '</body>',
    '</html>',
  ].join('\n');
}

const IDLE_MODES: Readonly<Record<IdleMode, string>> = {
  separate: "as its own row (__idle__), an owner's in the owner's row",
  share: "of no one shared by each cluster's keys, an owner's in the owner's row",
  pooled: 'as its own row (__idle__), owned or not',
};

function meta(model: HtmlModel): string {
  const { fromMs, toMs, idle, cluster, namespace, nowMs } = model.input;
  const iso = (ms: number) => new Date(ms).toISOString();
  const parts = [
    `windows starting from ${iso(fromMs)} up to ${iso(toMs)} (not included)`,
    `idle ${IDLE_MODES[idle]}`,
    `cluster ${cluster ?? 'all'}`,
    `namespace ${namespace ?? 'all'}`,
    `written ${iso(nowMs)}`,
  ];
  return `<p class="meta">${escapeHtml(parts.join(' · '))}</p>`;
}

function table(header: readonly string[], numeric: readonly number[], body: string[], footer = ''): string {
  const th = header.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${escapeHtml(h)}</th>`);
  return `<table><thead><tr>${th.join('')}</tr></thead><tbody>\n${body.join('\n')}\n</tbody>${footer}</table>`;
}

/** A table row; the cells at the `numeric` positions are aligned right. */
function tr(cells: readonly string[], numeric: readonly number[], className = ''): string {
  const td = cells.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${escapeHtml(c)}</td>`);
  return `<tr${className === '' ? '' : ` class="${className}"`}>${td.join('')}</tr>`;
}

function spendSection(model: HtmlModel): string {
  const unit = model.input.bucketing === 'day' ? 'day' : 'ledger window';
  const heading = `<h2>Spend per ${unit} (UTC)</h2>`;
  if (model.charts.length === 0)
    return `<section id="spend">${heading}<p class="empty">No cost in this range.</p></section>`;
  return `<section id="spend">${heading}\n${model.charts.map((c) => chartBlock(model, c)).join('\n')}</section>`;
}

function chartBlock(model: HtmlModel, chart: Chart): string {
  const legend = chart.series.map(
    (s, i) =>
      `<li data-series="${i}"><span class="swatch ${seriesClass(s, i)}"></span>` +
      `${escapeHtml(`${s.label}: ${decimal(s.cost)} ${chart.currency}`)}</li>`,
  );
  return (
    `<div class="chart-block" data-currency="${escapeHtml(chart.currency)}" data-bars="${countBars(chart)}">` +
    `<p class="total">${escapeHtml(`Total ${decimal(chart.total)} ${chart.currency}`)}</p>\n` +
    `${chartSvg(chart, model.input.bucketing)}\n<ul class="legend">${legend.join('')}</ul></div>`
  );
}

function rowsSection(model: HtmlModel): string {
  const { by } = model.input;
  const numeric = [by.length];
  const heading = `<h2>By ${escapeHtml(by.join(', '))}</h2>`;
  if (model.rows.length === 0) return `<section id="rows">${heading}<p class="empty">No rows.</p></section>`;
  const body = model.rows.map((r) =>
    tr([...r.keys.map((k) => (k === '' ? '(none)' : k)), decimal(r.cost), r.currency], numeric, 'row'),
  );
  const sums = [...model.totals].map(([currency, cost]) =>
    tr(['Total', ...by.slice(1).map(() => ''), decimal(cost), currency], numeric),
  );
  const header = [...by, 'cost', 'currency'];
  return `<section id="rows">${heading}\n${table(header, numeric, body, `<tfoot>${sums.join('')}</tfoot>`)}</section>`;
}

function workloadsSection(model: HtmlModel): string {
  const heading = '<h2>Top workloads by cost</h2>';
  if (model.workloads.length === 0)
    return `<section id="workloads">${heading}<p class="empty">No workload cost in this range.</p></section>`;
  const numeric = [5, 7];
  const body = model.workloads.map((w, i) =>
    tr(
      [String(i + 1), w.clusterId, w.namespace, w.kind, w.name, decimal(w.cost), w.currency, w.share],
      [0, ...numeric],
      'workload',
    ),
  );
  const header = ['#', 'cluster', 'namespace', 'kind', 'name', 'cost', 'currency', 'of all cost'];
  return `<section id="workloads">${heading}\n${table(header, [0, ...numeric], body)}</section>`;
}

function idleSection(model: HtmlModel): string {
  const heading = `<h2>Idle capacity (${IDLE})</h2>`;
  const empty = (why: string) => `<section id="idle">${heading}<p class="empty">${escapeHtml(why)}</p></section>`;
  if (model.input.namespace !== undefined)
    return empty('Idle capacity belongs to no namespace: --namespace leaves it out.');
  if (model.idle.length === 0) return empty('No cost in this range.');
  const numeric = [1, 2, 4];
  const body = model.idle.map((l) =>
    tr(
      [l.clusterId === '' ? 'all clusters' : l.clusterId, decimal(l.idle), decimal(l.total), l.currency, l.share],
      numeric,
      'idle',
    ),
  );
  const header = ['cluster', 'idle cost', 'all cost', 'currency', 'idle share'];
  return (
    `<section id="idle">${heading}<p class="meta">GPU capacity no workload requested, priced as the nodes are.</p>\n` +
    `${table(header, numeric, body)}</section>`
  );
}
