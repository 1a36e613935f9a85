import { describe, expect, it } from 'vitest';
import { parseExportArgs, parseInstant, parseReportArgs, parseRunsArgs } from './options.ts';

const NOW = Date.UTC(2026, 10, 15, 12, 34, 56); // 2026-11-15T12:34:56Z

describe('times', () => {
  it.each([
    ['2026-11-01', Date.UTC(2026, 10, 1)],
    ['2026-11-01T13:00:00Z', Date.UTC(2026, 10, 1, 13)],
    ['2026-11-01t13:00:00z', Date.UTC(2026, 10, 1, 13)],
    ['2026-11-01T13:00:00.250Z', Date.UTC(2026, 10, 1, 13, 0, 0, 250)],
    ['2026-11-01T15:00:00+02:00', Date.UTC(2026, 10, 1, 13)],
    ['2026-11-01T08:00:00-05:00', Date.UTC(2026, 10, 1, 13)],
    ['2028-02-29', Date.UTC(2028, 1, 29)],
  ])('%s is %d', (text, ms) => {
    expect(parseInstant(text)).toBe(ms);
  });

  it.each([
    ['2026-02-30'],
    ['2026-11-01T13:00:00'], // no offset: ambiguous
    ['2026-11-01T24:00:00Z'],
    ['2026-11-01 13:00'],
    ['1730419200000'],
    ['yesterday'],
    [''],
  ])('%j is not a time', (text) => {
    expect(parseInstant(text)).toBeUndefined();
  });
});

describe('aicost report arguments', () => {
  it('defaults: this month so far, a table, idle separate, the engine chosen for the ledger', () => {
    expect(parseReportArgs(['--by', 'team'], NOW)).toEqual({
      by: ['team'],
      fromMs: Date.UTC(2026, 10, 1),
      toMs: NOW,
      ledger: undefined,
      cluster: undefined,
      namespace: undefined,
      format: 'table',
      idle: 'separate',
      engine: 'auto',
      efficiency: false,
    });
  });

  it('takes every option', () => {
    const args = [
      '--by=team,project,app.kubernetes.io/name',
      '--from',
      '2026-10-01',
      '--to',
      '2026-11-01T00:00:00Z',
      '--ledger',
      's3://bucket/ledger',
      '--cluster',
      'prod-1',
      '--namespace',
      'ml',
      '--format',
      'json',
      '--idle',
      'share',
      '--engine',
      'js',
      '--efficiency',
    ];
    expect(parseReportArgs(args, NOW)).toEqual({
      by: ['team', 'project', 'app.kubernetes.io/name'],
      fromMs: Date.UTC(2026, 9, 1),
      toMs: Date.UTC(2026, 10, 1),
      ledger: 's3://bucket/ledger',
      cluster: 'prod-1',
      namespace: 'ml',
      format: 'json',
      idle: 'share',
      engine: 'js',
      efficiency: true,
    });
  });

  it('--idle pooled: all idle in __idle__, owned or not', () => {
    expect(parseReportArgs(['--by', 'team', '--idle', 'pooled'], NOW)).toMatchObject({ idle: 'pooled' });
  });

  it('--efficiency takes no value, and is not for the HTML page', () => {
    expect(parseReportArgs(['--by', 'team', '--efficiency=yes'], NOW)).toMatchObject({
      error: expect.stringMatching(/--efficiency/) as unknown,
    });
    expect(parseReportArgs(['--by', 'team', '--efficiency', '--format', 'html'], NOW)).toMatchObject({
      error: expect.stringMatching(/^aicost report: --efficiency: the HTML page shows cost only/) as unknown,
    });
  });

  it('--from defaults to the start of the month of --to', () => {
    const parsed = parseReportArgs(['--by', 'team', '--to', '2026-10-01'], NOW);
    expect(parsed).toMatchObject({ fromMs: Date.UTC(2026, 8, 1), toMs: Date.UTC(2026, 9, 1) });
  });

  it.each([
    [[], 'aicost report: --by: is required, e.g. --by team or --by team,project'],
    [
      ['--by', 'team,'],
      'aicost report: --by: "" is not a label key (team, project, namespace, workload, cluster, ...)',
    ],
    [['--by', 'team,team'], 'aicost report: --by: "team,team" names a key twice'],
    [['--by', 'cost'], 'aicost report: --by: "cost" is the name of a report column, not a key'],
    [
      ['--by', 'team', '--from', '2026-11-31'],
      'aicost report: --from: "2026-11-31" is not a date (2026-11-01) or an RFC 3339 time (2026-11-01T13:00:00Z)',
    ],
    [
      ['--by', 'team', '--from', '2026-11-02', '--to', '2026-11-01'],
      'aicost report: --from: "2026-11-02T00:00:00.000Z" is not before --to, "2026-11-01T00:00:00.000Z"',
    ],
    [['--by', 'team', '--format', 'yaml'], 'aicost report: --format: "yaml" is not one of table, csv, json, html'],
    [['--by', 'team', '--idle', 'hide'], 'aicost report: --idle: "hide" is not one of separate, share, pooled'],
    [
      ['--by', 'team', '--cluster', 'Prod'],
      "aicost report: --cluster: \"Prod\" is not a cluster id (lower case letters, digits, '.', '_', '-')",
    ],
    [['--by', 'team', '--bogus'], "aicost report: Unknown option '--bogus'"],
  ])('%j: %s', (args, message) => {
    const parsed = parseReportArgs(args, NOW);
    expect('error' in parsed && parsed.error.split('\n')[0]).toBe(message);
  });
});

describe('aicost report --format html, and the name the user typed', () => {
  it('html is a format of the report, not of the runs', () => {
    expect(parseReportArgs(['--by', 'team', '--format', 'html'], NOW)).toMatchObject({ format: 'html' });
    const runs = parseRunsArgs(['--format', 'html'], NOW);
    expect('error' in runs && runs.error.split('\n')[0]).toBe(
      'aicost report runs: --format: "html" is not one of table, csv, json',
    );
  });

  it.each([
    [() => parseReportArgs(['--by', 'a b'], NOW, 'kubectl aicost'), 'kubectl aicost report: --by: '],
    [() => parseRunsArgs(['--x'], NOW, 'kubectl aicost'), 'kubectl aicost report runs: '],
    [() => parseExportArgs([], NOW, 'kubectl aicost'), 'kubectl aicost export focus: --out'],
  ])('as kubectl aicost, the messages and the usage say so (%#)', (parse, start) => {
    const parsed = parse();
    const error = 'error' in parsed ? parsed.error : '';
    expect(error.startsWith(start)).toBe(true);
    expect(error).toMatch(/\nUsage: kubectl aicost (report|export)/);
    expect(error).not.toMatch(/(^|Usage: )aicost/m);
  });
});

describe('aicost report runs and export focus arguments', () => {
  it('runs: the range, a namespace and a format', () => {
    expect(parseRunsArgs(['--namespace', 'ml', '--format', 'csv'], NOW)).toEqual({
      fromMs: Date.UTC(2026, 10, 1),
      toMs: NOW,
      ledger: undefined,
      cluster: undefined,
      namespace: 'ml',
      format: 'csv',
    });
  });

  it.each([
    ['cost.parquet', undefined, 'parquet'],
    ['cost.csv', undefined, 'csv'],
    ['COST.CSV', undefined, 'csv'],
    ['cost.out', undefined, 'parquet'],
    ['cost.out', 'csv', 'csv'],
  ])('export to %s with --format %s writes %s', (out, format, expected) => {
    const args = ['--out', out, '--from', '2026-11-01', '--to', '2026-12-01', ...(format ? ['--format', format] : [])];
    expect(parseExportArgs(args, NOW)).toEqual({
      fromMs: Date.UTC(2026, 10, 1),
      toMs: Date.UTC(2026, 11, 1),
      ledger: undefined,
      cluster: undefined,
      out,
      format: expected,
      provider: 'Kubernetes',
      hostProvider: 'Kubernetes',
    });
  });

  it('export needs --out; the host provider defaults to the provider', () => {
    const parsed = parseExportArgs([], NOW);
    expect('error' in parsed && parsed.error.split('\n')[0]).toBe(
      'aicost export focus: --out: is required (a .parquet or .csv file)',
    );
    expect(parseExportArgs(['--out', 'x.parquet', '--provider', 'ACME Platform'], NOW)).toMatchObject({
      provider: 'ACME Platform',
      hostProvider: 'ACME Platform',
    });
  });
});
