/**
 * Report rows as text: an aligned table for people, CSV (RFC 4180) and JSON for programs. Amounts are exact
 * decimal strings of the nano-unit sums (trailing zeros trimmed, at least two decimals), so the rows of any
 * format add up to the total to the nano-unit; no format rounds.
 */
import { totals, type ReportRow } from './aggregate.ts';
import type { TextFormat } from './options.ts';
import { summarizeRuns, type Run } from './runs.ts';
import { NO_EFFICIENCY, usedRatio, type Efficiency } from './efficiency.ts';
import { unitFigures, withServed, type Served } from './served.ts';

/**
 * The served columns of a report by model (served.ts), as exact decimal strings; null where unknown. Counts
 * are strings too, so that JSON carries them exactly whatever their size.
 */
function servedFields(served: Served | undefined): Record<string, string | null> {
  const figures = served ? unitFigures(served) : undefined;
  const count = (v: bigint | null | undefined) => (v === null || v === undefined ? null : v.toString());
  const money = (v: bigint | null | undefined) => (v === null || v === undefined ? null : decimal(v));
  return {
    promptTokens: count(served?.promptTokens),
    generatedTokens: count(served?.generatedTokens),
    requests: count(served?.requests),
    costPerMillionTokens: money(figures?.perMillionTokens),
    costPerThousandRequests: money(figures?.perThousandRequests),
  };
}

/** The efficiency columns (efficiency.ts): money and GPU-hours as exact decimals, the ratio to four decimals. */
function efficiencyFields(e: Efficiency | undefined): Record<string, string | null> {
  const figures = e ?? NO_EFFICIENCY;
  return {
    trainingCost: decimal(figures.trainingCost),
    inferenceCost: decimal(figures.inferenceCost),
    developmentCost: decimal(figures.developmentCost),
    gpuHours: decimal(figures.gpuHours),
    gpuHoursUnder70: decimal(figures.lowUtilizationGpuHours),
    gpuHoursUnmeasured: decimal(figures.unmeasuredGpuHours),
    endpointGpuHours: decimal(figures.endpointGpuHours),
    endpointUsedRatio: usedRatio(figures),
  };
}

/** The table's headers of the extra columns. */
const HEADERS: Readonly<Record<string, string>> = {
  idleCost: 'IDLE',
  promptTokens: 'PROMPT TOKENS',
  generatedTokens: 'GENERATED TOKENS',
  requests: 'REQUESTS',
  costPerMillionTokens: 'COST/1M TOKENS',
  costPerThousandRequests: 'COST/1K REQUESTS',
  trainingCost: 'TRAINING',
  inferenceCost: 'INFERENCE',
  developmentCost: 'DEVELOPMENT',
  gpuHours: 'GPU-HOURS',
  gpuHoursUnder70: 'GPU-HOURS <70%',
  gpuHoursUnmeasured: 'GPU-HOURS UNMEASURED',
  endpointGpuHours: 'ENDPOINT GPU-HOURS',
  endpointUsedRatio: 'ENDPOINT USED',
};

/** Nano-units as an exact decimal: 12345678000n -> "12.345678", 5n -> "0.000000005", 0n -> "0.00". */
export function decimal(nanos: bigint): string {
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const whole = abs / 1_000_000_000n;
  const fraction = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/**
 * A report that holds idle an owner owns (--idle-owner-label; aggregate.ts reportRows) adds, after the
 * currency, `idleCost`: the part of each row's cost that is idle capacity (its owned idle; all of an
 * `__idle__` row's cost). A report without owned idle, and every report with --idle pooled, has no such column.
 *
 * A report by model (served.ts) adds, after the currency, the tokens and requests counted and the cost per
 * million tokens and per thousand requests; unknown is null in JSON, empty in CSV and '-' in the table.
 */
export function formatReport(
  rows: readonly ReportRow[],
  by: readonly string[],
  format: TextFormat,
  efficiency = false,
): string {
  const served = withServed(by);
  const owned = rows.some((row) => row.ownedIdle !== undefined);
  const extra = (row: ReportRow): Record<string, string | null> => ({
    ...(owned ? { idleCost: decimal(row.idle ? row.cost : (row.ownedIdle ?? 0n)) } : {}),
    ...(served ? servedFields(row.served) : {}),
    ...(efficiency ? efficiencyFields(row.efficiency) : {}),
  });
  const extraNames = Object.keys(extra({ keys: [], cost: 0n, currency: '', idle: false }));
  switch (format) {
    case 'json':
      return JSON.stringify(
        rows.map((row) => ({
          ...Object.fromEntries(by.map((key, i) => [key, row.keys[i] ?? ''])),
          cost: decimal(row.cost),
          currency: row.currency,
          ...extra(row),
        })),
        null,
        2,
      );
    case 'csv': {
      const header = [...by, 'cost', 'currency', ...extraNames];
      const line = (r: ReportRow) => [
        ...r.keys,
        decimal(r.cost),
        r.currency,
        ...Object.values(extra(r)).map((v) => v ?? ''),
      ];
      return csv([header, ...rows.map(line)]);
    }
    case 'table': {
      const body = rows.map((r) => [
        ...r.keys.map((k) => (k === '' ? '(none)' : k)),
        decimal(r.cost),
        r.currency,
        ...Object.values(extra(r)).map((v) => v ?? '-'),
      ]);
      const sums = [...totals(rows)].map(([currency, cost]) => [
        'TOTAL',
        ...by.slice(1).map(() => ''),
        decimal(cost),
        currency,
      ]);
      const extraHeaders = extraNames.map((name) => HEADERS[name] ?? name.toUpperCase());
      const headers = [...by.map((k) => k.toUpperCase()), 'COST', 'CURRENCY', ...extraHeaders];
      const numbers = [by.length, ...extraHeaders.map((_, i) => by.length + 2 + i)];
      return table(headers, body, sums, numbers);
    }
  }
}

const RUN_COLUMNS = [
  'cluster',
  'namespace',
  'job',
  'team',
  'experiment',
  'start',
  'end',
  'outcome',
  'gpuHours',
  'utilization',
  'idleGpuCost',
  'cost',
  'currency',
] as const;

function runFields(run: Run): string[] {
  return [
    run.clusterId,
    run.namespace,
    run.name,
    run.team,
    run.experiment,
    new Date(run.firstStartMs).toISOString(),
    new Date(run.lastEndMs).toISOString(),
    run.outcome,
    decimal(run.gpuHours),
    run.utilization === null ? '' : run.utilization.toFixed(4),
    decimal(run.idleGpuCost),
    decimal(run.cost),
    run.currency,
  ];
}

/**
 * The runs, then (table and JSON) the summary per team and experiment. CSV holds only the runs, one per line,
 * so it loads into a spreadsheet as one table; the summary is a sum over it.
 */
export function formatRuns(runs: readonly Run[], format: TextFormat): string {
  const summary = summarizeRuns(runs);
  switch (format) {
    case 'json':
      return JSON.stringify(
        {
          runs: runs.map((run) => ({
            cluster: run.clusterId,
            namespace: run.namespace,
            job: run.name,
            uid: run.uid,
            team: run.team,
            experiment: run.experiment,
            start: new Date(run.firstStartMs).toISOString(),
            end: new Date(run.lastEndMs).toISOString(),
            outcome: run.outcome,
            gpuHours: decimal(run.gpuHours),
            utilization: run.utilization,
            idleGpuCost: decimal(run.idleGpuCost),
            cost: decimal(run.cost),
            currency: run.currency,
          })),
          summary: summary.map((s) => ({
            team: s.team,
            experiment: s.experiment,
            runs: s.runs,
            succeeded: s.succeeded,
            failed: s.failed,
            running: s.running,
            cost: decimal(s.cost),
            costPerSuccessfulRun: s.costPerSuccessfulRun === null ? null : decimal(s.costPerSuccessfulRun),
            currency: s.currency,
          })),
        },
        null,
        2,
      );
    case 'csv':
      return csv([[...RUN_COLUMNS], ...runs.map(runFields)]);
    case 'table': {
      const none = (v: string) => (v === '' ? '-' : v);
      const runTable = table(
        RUN_COLUMNS.map((c) => c.toUpperCase()),
        runs.map((run) => runFields(run).map(none)),
        [],
        [8, 9, 10, 11],
      );
      const summaryTable = table(
        ['TEAM', 'EXPERIMENT', 'RUNS', 'SUCCEEDED', 'FAILED', 'RUNNING', 'COST', 'COST/SUCCESSFUL RUN', 'CURRENCY'],
        summary.map((s) => [
          none(s.team),
          none(s.experiment),
          String(s.runs),
          String(s.succeeded),
          String(s.failed),
          String(s.running),
          decimal(s.cost),
          s.costPerSuccessfulRun === null ? '-' : decimal(s.costPerSuccessfulRun),
          s.currency,
        ]),
        [],
        [2, 3, 4, 5, 6, 7],
      );
      return `${runTable}\n\n${summaryTable}`;
    }
  }
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; lines end in CRLF. */
export function csv(lines: readonly (readonly string[])[]): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return lines.map((line) => line.map(field).join(',')).join('\r\n');
}

/** Columns padded to their widest cell; the columns of numbers are aligned right. */
function table(
  header: readonly string[],
  body: readonly (readonly string[])[],
  footer: readonly (readonly string[])[],
  numberColumns: readonly number[],
): string {
  const all = [header, ...body, ...footer];
  const widths = header.map((_, i) => Math.max(...all.map((line) => (line[i] ?? '').length)));
  const render = (line: readonly string[]) =>
    line
      .map((cell, i) => (numberColumns.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const lines = [render(header), ...body.map(render)];
  if (footer.length > 0) lines.push(widths.map((w) => '-'.repeat(w)).join('  '), ...footer.map(render));
  return lines.join('\n');
}
