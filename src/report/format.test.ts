import { describe, expect, it } from 'vitest';
import { IDLE, type ReportRow } from './aggregate.ts';
import { csv, decimal, formatReport, formatRuns } from './format.ts';
import type { Run } from './runs.ts';

const rows: ReportRow[] = [
  { keys: ['alpha', 'llm'], cost: 12_345_678_000n, currency: 'USD', idle: false },
  { keys: ['', 'x,"y"'], cost: 5n, currency: 'USD', idle: false },
  { keys: [IDLE, IDLE], cost: 1_000_000_000n, currency: 'USD', idle: true },
];

describe('report formats', () => {
  it.each([
    ['0', '0.00'],
    ['5', '0.000000005'],
    ['1000000000', '1.00'],
    ['12345678000', '12.345678'],
    ['-1500000000', '-1.50'],
    ['123456789012345678901', '123456789012.345678901'],
  ])('%s nano-units are %s', (nanos, text) => {
    expect(decimal(BigInt(nanos))).toBe(text);
  });

  it('json: one field per key, named as given, "" where missing, cost as a decimal string and the currency', () => {
    expect(JSON.parse(formatReport(rows, ['team', 'project'], 'json'))).toEqual([
      { team: 'alpha', project: 'llm', cost: '12.345678', currency: 'USD' },
      { team: '', project: 'x,"y"', cost: '0.000000005', currency: 'USD' },
      { team: IDLE, project: IDLE, cost: '1.00', currency: 'USD' },
    ]);
  });

  it('csv: a header, RFC 4180 quoting', () => {
    expect(formatReport(rows, ['team', 'project'], 'csv')).toBe(
      'team,project,cost,currency\r\nalpha,llm,12.345678,USD\r\n,"x,""y""",0.000000005,USD\r\n__idle__,__idle__,1.00,USD',
    );
  });

  it('table: aligned, (none) for a missing label, and a total per currency', () => {
    expect(formatReport(rows, ['team', 'project'], 'table').split('\n')).toEqual([
      'TEAM      PROJECT           COST  CURRENCY',
      'alpha     llm          12.345678  USD',
      '(none)    x,"y"      0.000000005  USD',
      '__idle__  __idle__          1.00  USD',
      '--------  --------  ------------  --------',
      'TOTAL               13.345678005  USD',
    ]);
  });

  it('csv quotes fields with commas, quotes and line breaks only', () => {
    expect(csv([['a', 'b,c', 'd"e', 'f\ng']])).toBe('a,"b,c","d""e","f\ng"');
  });

  it('runs as json: the runs, then the summary with the cost per successful run', () => {
    const run: Run = {
      clusterId: 'prod-1',
      uid: 'u-1',
      namespace: 'ml',
      name: 'train',
      team: 'alpha',
      experiment: 'exp-1',
      currency: 'USD',
      firstStartMs: Date.UTC(2026, 10, 1),
      lastEndMs: Date.UTC(2026, 10, 1, 2),
      outcome: 'succeeded',
      gpuHours: 16_000_000_000n,
      idleGpuCost: 250_000_000n,
      cost: 30_000_000_000n,
      utilization: 0.75,
    };
    const failed: Run = { ...run, uid: 'u-2', name: 'train-2', outcome: 'failed', cost: 10_000_000_000n };
    expect(JSON.parse(formatRuns([run, failed], 'json'))).toEqual({
      runs: [
        {
          cluster: 'prod-1',
          namespace: 'ml',
          job: 'train',
          uid: 'u-1',
          team: 'alpha',
          experiment: 'exp-1',
          start: '2026-11-01T00:00:00.000Z',
          end: '2026-11-01T02:00:00.000Z',
          outcome: 'succeeded',
          gpuHours: '16.00',
          utilization: 0.75,
          idleGpuCost: '0.25',
          cost: '30.00',
          currency: 'USD',
        },
        expect.objectContaining({ job: 'train-2', outcome: 'failed', cost: '10.00' }),
      ],
      summary: [
        {
          team: 'alpha',
          experiment: 'exp-1',
          runs: 2,
          succeeded: 1,
          failed: 1,
          running: 0,
          cost: '40.00',
          costPerSuccessfulRun: '40.00',
          currency: 'USD',
        },
      ],
    });
  });
});
