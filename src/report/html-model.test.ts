import { describe, expect, it } from 'vitest';
import { htmlInput, reportWindows } from '../testing/html-report.ts';
import { HOUR_MS, jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { allRows, T0 } from '../testing/report-ledger.ts';
import { GroupSums, reportRows } from './aggregate.ts';
import { decimal } from './format.ts';
import { buildHtmlModel, MAX_SERIES, percent, TOP_WORKLOADS, type Chart } from './html-model.ts';
import { DAY_MS } from './timeline.ts';

/** A chart as lines: the series (kind, label, cost), the bars (label, total, series:cost per segment). */
function view(chart: Chart | undefined) {
  if (!chart) throw new Error('no chart');
  return {
    currency: chart.currency,
    series: chart.series.map((s) => `${s.kind} ${s.label} ${decimal(s.cost)}`),
    bars: chart.bars.map((b) => [
      b.label,
      decimal(b.total),
      ...b.segments.map((g) => `${g.series}:${decimal(g.cost)}`),
    ]),
    total: decimal(chart.total),
  };
}

describe('the HTML report model (the ledger of src/testing/report-ledger.ts)', () => {
  it('has the rows of --format json: reportRows over the same groups, whichever --idle', () => {
    for (const idle of ['separate', 'share', 'pooled'] as const)
      for (const by of [['team'], ['cluster', 'team'], ['workload']]) {
        const whole = new GroupSums(by);
        whole.add(allRows());
        expect(buildHtmlModel(htmlInput(reportWindows(), { by, idle })).rows).toEqual(
          reportRows(whole.groups(), idle, by),
        );
      }
  });

  it('idle separate: one bar per window, stacked by team, idle on top; the bars add up to the total', () => {
    const model = buildHtmlModel(htmlInput(reportWindows()));
    expect(model.charts.map(view)).toEqual([
      {
        currency: 'USD',
        series: ['key alpha 5.500000003', 'key beta 4.999999999', 'key (none) 0.30', 'idle __idle__ 3.10'],
        bars: [
          ['2026-11-01 00:00', '9.633333334', '0:3.500000001', '1:4.333333333', '2:0.10', '3:1.70'],
          ['2026-11-01 01:00', '2.133333334', '0:1.000000001', '1:0.333333333', '2:0.10', '3:0.70'],
          ['2026-11-01 02:00', '2.133333334', '0:1.000000001', '1:0.333333333', '2:0.10', '3:0.70'],
        ],
        total: '13.900000002',
      },
    ]);
    expect(decimal(model.totals.get('USD') ?? 0n)).toBe('13.900000002');
  });

  it("idle shared: each bar's idle goes to that window's keys by their cost there, by largest remainder", () => {
    const chart = buildHtmlModel(htmlInput(reportWindows(), { idle: 'share' })).charts[0];
    // 01:00, prod-1 only: idle 0.7 over alpha 1.000000001, beta 0.333333333 and (none) 0.1 is 0.488372093,
    // 0.162790697 (+1 nano-unit, the largest remainder) and 0.048837209. 00:00: prod-2's idle all to beta.
    expect(view(chart)).toEqual({
      currency: 'USD',
      series: ['key alpha 7.099625545', 'key beta 6.384903429', 'key (none) 0.415471028'],
      bars: [
        ['2026-11-01 00:00', '9.633333334', '0:4.122881357', '1:5.392655367', '2:0.11779661'],
        ['2026-11-01 01:00', '2.133333334', '0:1.488372094', '1:0.496124031', '2:0.148837209'],
        ['2026-11-01 02:00', '2.133333334', '0:1.488372094', '1:0.496124031', '2:0.148837209'],
      ],
      total: '13.900000002',
    });
  });

  it(`draws the first ${MAX_SERIES} keys by cost as series and sums the rest into one`, () => {
    const teams = Array.from({ length: MAX_SERIES + 2 }, (_, i) =>
      jobRow({
        windowStartMs: T0,
        windowEndMs: T0 + HOUR_MS,
        workloadName: `job-${i}`,
        workloadUid: `uid-${i}`,
        team: `team-${String(i).padStart(2, '0')}`,
        cost: BigInt(i + 1) * 1_000_000_000n,
      }),
    );
    const idle = nodeRow({ windowStartMs: T0, windowEndMs: T0 + HOUR_MS, cost: 500_000_000n });
    const chart = buildHtmlModel(htmlInput([[...teams, idle]])).charts[0];
    expect(view(chart).series).toEqual([
      'key team-09 10.00',
      'key team-08 9.00',
      'key team-07 8.00',
      'key team-06 7.00',
      'key team-05 6.00',
      'key team-04 5.00',
      'key team-03 4.00',
      'key team-02 3.00',
      'more 2 more 3.00',
      'idle __idle__ 0.50',
    ]);
    expect(view(chart).bars[0]).toHaveLength(2 + MAX_SERIES + 2);
  });

  it('per day: every day from the first to the last, an empty day too', () => {
    const day = (d: number) => [
      jobRow({ windowStartMs: T0 + d * DAY_MS + 5 * HOUR_MS, windowEndMs: T0 + d * DAY_MS + 6 * HOUR_MS, cost: 2n }),
    ];
    const chart = buildHtmlModel(
      htmlInput([day(0), day(0).map((r) => ({ ...r, windowStartMs: r.windowStartMs + HOUR_MS })), day(2)], {
        bucketing: 'day',
        toMs: T0 + 3 * DAY_MS,
      }),
    ).charts[0];
    expect(view(chart).bars).toEqual([
      ['2026-11-01', '0.000000004', '0:0.000000004'],
      ['2026-11-02', '0.00'],
      ['2026-11-03', '0.000000002', '0:0.000000002'],
    ]);
  });

  it('lists the top workloads by cost with their share of all cost, and the idle share per cluster', () => {
    const model = buildHtmlModel(htmlInput(reportWindows()));
    expect(model.workloads.map((w) => [w.clusterId, w.namespace, w.kind, w.name, decimal(w.cost), w.share])).toEqual([
      ['prod-2', 'ml-alpha', 'Job', 'train-c', '4.00', '28.8 %'],
      ['prod-1', 'ml-alpha', 'Job', 'train-a', '3.000000003', '21.6 %'],
      ['prod-1', 'ml-alpha', 'Job', 'train-b', '2.50', '18.0 %'],
      ['prod-1', 'serving', 'Deployment', 'serve', '0.999999999', '7.2 %'],
      ['prod-1', 'sandbox', 'Pod', 'scratch', '0.30', '2.2 %'],
    ]);
    expect(model.idle.map((l) => [l.clusterId, decimal(l.idle), decimal(l.total), l.share])).toEqual([
      ['prod-1', '2.10', '8.900000002', '23.6 %'],
      ['prod-2', '1.00', '5.00', '20.0 %'],
      ['', '3.10', '13.900000002', '22.3 %'],
    ]);
  });

  it(`lists at most ${TOP_WORKLOADS} workloads, the most costly`, () => {
    const jobs = Array.from({ length: TOP_WORKLOADS + 2 }, (_, i) =>
      jobRow({ workloadName: `job-${i}`, workloadUid: `uid-${i}`, cost: BigInt(i + 1) }),
    );
    const names = buildHtmlModel(htmlInput([jobs])).workloads.map((w) => w.name);
    expect(names).toEqual(Array.from({ length: TOP_WORKLOADS }, (_, i) => `job-${TOP_WORKLOADS + 1 - i}`));
  });

  it('an empty range has no chart, no rows and no workloads', () => {
    const model = buildHtmlModel(htmlInput([]));
    expect([model.rows, model.charts, model.workloads, model.idle]).toEqual([[], [], [], []]);
  });
});

describe('percent', () => {
  it.each([
    [1n, 3n, '33.3 %'],
    [2n, 3n, '66.7 %'],
    [1n, 8n, '12.5 %'],
    [1n, 2000n, '0.1 %'],
    [1n, 2001n, '0.0 %'],
    [5n, 5n, '100.0 %'],
    [-1n, 3n, '-33.3 %'],
    [0n, 0n, '-'],
  ])('%d of %d is %s', (part, whole, text) => {
    expect(percent(part, whole)).toBe(text);
  });
});
