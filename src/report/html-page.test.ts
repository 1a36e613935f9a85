import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { htmlInput, reportWindows } from '../testing/html-report.ts';
import { HOUR_MS, jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { T0 } from '../testing/report-ledger.ts';
import { chartSvg, countBars } from './html-chart.ts';
import { escapeHtml } from './html-escape.ts';
import { buildHtmlModel } from './html-model.ts';
import { CONTENT_SECURITY_POLICY, renderHtmlReport } from './html-page.ts';

/** The bars of a page or an SVG: [class, title] of each <rect class="bar ...">. */
function bars(html: string): [string, string][] {
  return [...html.matchAll(/<rect class="bar ([^"]+)"[^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => [
    m[1] ?? '',
    m[2] ?? '',
  ]);
}

/** The text of each cell of the rows of a table (tr class). */
function cells(html: string, rowClass: string): string[][] {
  return [...html.matchAll(new RegExp(`<tr class="${rowClass}">(.*?)</tr>`, 'g'))].map((m) =>
    [...(m[1] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1] ?? ''),
  );
}

describe('the chart', () => {
  const model = buildHtmlModel(htmlInput(reportWindows()));
  const chart = model.charts[0];
  if (!chart) throw new Error('no chart');
  const svg = chartSvg(chart, 'window');

  it('draws one <rect> per positive segment, titled with its series, bucket and exact amount', () => {
    expect(countBars(chart)).toBe(12);
    expect(bars(svg)).toEqual([
      ['s0', 'alpha · 2026-11-01 00:00: 3.500000001 USD'],
      ['s1', 'beta · 2026-11-01 00:00: 4.333333333 USD'],
      ['s2', '(none) · 2026-11-01 00:00: 0.10 USD'],
      ['s-idle', '__idle__ · 2026-11-01 00:00: 1.70 USD'],
      ['s0', 'alpha · 2026-11-01 01:00: 1.000000001 USD'],
      ['s1', 'beta · 2026-11-01 01:00: 0.333333333 USD'],
      ['s2', '(none) · 2026-11-01 01:00: 0.10 USD'],
      ['s-idle', '__idle__ · 2026-11-01 01:00: 0.70 USD'],
      ['s0', 'alpha · 2026-11-01 02:00: 1.000000001 USD'],
      ['s1', 'beta · 2026-11-01 02:00: 0.333333333 USD'],
      ['s2', '(none) · 2026-11-01 02:00: 0.10 USD'],
      ['s-idle', '__idle__ · 2026-11-01 02:00: 0.70 USD'],
    ]);
    expect(svg).toContain('<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 960 320"');
  });

  it('stacks to scale: the tallest bar fills the plot, the others in proportion', () => {
    const rects = [...svg.matchAll(/<rect [^>]*y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)].map((m) => ({
      y: Number(m[1]),
      height: Number(m[2]),
    }));
    const column = (i: number) => rects.slice(4 * i, 4 * i + 4);
    const top = (i: number) => Math.min(...column(i).map((r) => r.y));
    // The plot runs from y 20 (the largest total, 9.633333334) to y 280 (zero).
    expect(top(0)).toBeCloseTo(20, 1);
    expect(280 - top(1)).toBeCloseTo((260 * 2.133333334) / 9.633333334, 1);
    expect(column(0).reduce((s, r) => s + r.height, 0)).toBeCloseTo(260, 1);
    expect(svg).toContain('>9.633333334 USD</text>');
  });

  it('labels the axis with times of day per window, and with month-day per day', () => {
    expect([...svg.matchAll(/<text class="x"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual([
      '00:00',
      '01:00',
      '02:00',
    ]);
    const day = buildHtmlModel(htmlInput(reportWindows(), { bucketing: 'day' })).charts[0];
    if (!day) throw new Error('no chart');
    expect([...chartSvg(day, 'day').matchAll(/<text class="x"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual([
      '11-01',
    ]);
  });
});

describe('the page', () => {
  const hostile = '<script>alert(1)</script>';
  const image = '"><img src=x onerror=alert(2)>';
  const window = { windowStartMs: T0, windowEndMs: T0 + HOUR_MS };
  const rows = [
    jobRow({ ...window, team: hostile, workloadName: 'a', workloadUid: 'a', cost: 3_000_000_000n }),
    jobRow({ ...window, team: image, workloadName: 'b', workloadUid: 'b', cost: 2_000_000_000n }),
    jobRow({ ...window, team: "o'brien & co", workloadName: 'c', workloadUid: 'c', cost: 1_000_000_000n }),
    nodeRow({ ...window, cost: 500_000_000n }),
  ];
  const page = renderHtmlReport(buildHtmlModel(htmlInput([rows])));

  it('shows tenant labels as text: escaped in the chart, the legend and the tables', () => {
    expect(page).not.toContain(hostile);
    expect(page).not.toContain('<img');
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(bars(page).map(([, title]) => title)).toEqual([
      '&lt;script&gt;alert(1)&lt;/script&gt; · 2026-11-01 00:00: 3.00 USD',
      '&quot;&gt;&lt;img src=x onerror=alert(2)&gt; · 2026-11-01 00:00: 2.00 USD',
      'o&#39;brien &amp; co · 2026-11-01 00:00: 1.00 USD',
      '__idle__ · 2026-11-01 00:00: 0.50 USD',
    ]);
    expect(cells(page, 'row')).toEqual([
      ['&lt;script&gt;alert(1)&lt;/script&gt;', '3.00', 'USD'],
      ['&quot;&gt;&lt;img src=x onerror=alert(2)&gt;', '2.00', 'USD'],
      ['o&#39;brien &amp; co', '1.00', 'USD'],
      ['__idle__', '0.50', 'USD'],
    ]);
    expect(page).toContain(
      '<li data-series="0"><span class="swatch s0"></span>&lt;script&gt;alert(1)&lt;/script&gt;: 3.00 USD</li>',
    );
  });

  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;',
    );
  });

  it('allows only its own style and script, by their hashes, and nothing to fetch', () => {
    const sha = (text: string) => createHash('sha256').update(text).digest('base64');
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1] ?? '';
    expect(CONTENT_SECURITY_POLICY).toBe(
      `default-src 'none'; style-src 'sha256-${sha(style)}'; script-src 'sha256-${sha(script)}'; ` +
        "img-src 'none'; base-uri 'none'; form-action 'none'",
    );
    expect(page).toContain(
      `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    );
    // The policy comes before anything it governs.
    expect(page.indexOf('Content-Security-Policy')).toBeLessThan(page.indexOf('<style>'));
    expect(renderHtmlReport(buildHtmlModel(htmlInput(reportWindows())))).not.toMatch(/\b(src|href)=/);
  });

  it('has the top workloads and the idle share, and says when a namespace leaves idle out', () => {
    const model = buildHtmlModel(htmlInput(reportWindows()));
    const full = renderHtmlReport(model);
    expect(cells(full, 'workload')[0]).toEqual(['1', 'prod-2', 'ml-alpha', 'Job', 'train-c', '4.00', 'USD', '28.8 %']);
    expect(cells(full, 'idle')).toEqual([
      ['prod-1', '2.10', '8.900000002', 'USD', '23.6 %'],
      ['prod-2', '1.00', '5.00', 'USD', '20.0 %'],
      ['all clusters', '3.10', '13.900000002', 'USD', '22.3 %'],
    ]);
    const namespaced = renderHtmlReport(buildHtmlModel(htmlInput(reportWindows(), { namespace: 'serving' })));
    expect(namespaced).toContain('Idle capacity belongs to no namespace: --namespace leaves it out.');
    expect(cells(namespaced, 'row')).toEqual([['beta', '0.999999999', 'USD']]);
  });

  it('says so when the range has no cost', () => {
    const empty = renderHtmlReport(buildHtmlModel(htmlInput([])));
    expect(empty).toContain('<p class="empty">No cost in this range.</p>');
    expect(bars(empty)).toEqual([]);
  });
});
