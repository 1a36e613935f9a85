/**
 * The arguments of `aicost report`, `aicost report runs` and `aicost export focus`, parsed without side effects:
 * the current time and the environment's ledger come in as arguments. Every problem is one line that names
 * the flag and quotes the value.
 */
import { parseArgs } from 'node:util';
import { isClusterId } from '../ledger/layout.ts';
import { forProgram, PROGRAM } from '../program-name.ts';

/** The formats of text every command prints; `aicost report` also writes an HTML page. */
export type TextFormat = 'table' | 'csv' | 'json';
export type ReportFormat = TextFormat | 'html';
export type IdleMode = 'separate' | 'share' | 'pooled';
export type Engine = 'auto' | 'duckdb' | 'js';

/** Windows whose start is in [fromMs, toMs), as LedgerStore.readRange takes them. */
export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

interface Common extends TimeRange {
  /** Undefined: --ledger was not given (the caller falls back to AICOST_LEDGER, then the default). */
  readonly ledger: string | undefined;
  readonly cluster: string | undefined;
}

export interface ReportOptions extends Common {
  readonly by: readonly string[];
  readonly namespace: string | undefined;
  readonly format: ReportFormat;
  readonly idle: IdleMode;
  readonly engine: Engine;
  /** --efficiency: the efficiency columns (efficiency.ts). */
  readonly efficiency: boolean;
}

export interface RunsOptions extends Common {
  readonly namespace: string | undefined;
  readonly format: TextFormat;
}

export interface ExportOptions extends Common {
  readonly out: string;
  readonly format: 'parquet' | 'csv';
  readonly provider: string;
  readonly hostProvider: string;
}

export type Parsed<T> = T | { readonly error: string };

/** Keys with a column of their own in the ledger, or computed from columns; any other key is a label. */
export const BUILTIN_KEYS = [
  'team',
  'project',
  'experiment',
  'model',
  'namespace',
  'workload',
  'cluster',
  'compute',
] as const;
/** A Kubernetes label key: an optional DNS prefix and '/', then a name. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An RFC 3339 time, or a date meaning 00:00 UTC that day, to epoch milliseconds; undefined when it is
 * neither (or names a day that does not exist, such as 2026-02-30).
 */
export function parseInstant(text: string): number | undefined {
  const date = DATE.exec(text) ?? DATE_TIME.exec(text);
  if (!date) return undefined;
  const [, y, m, d] = date.map(Number);
  if (y === undefined || m === undefined || d === undefined) return undefined;
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return undefined;
  if (DATE.test(text)) return day.getTime();
  const [, , , , hh = '', mm = '', ss = ''] = date;
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return undefined;
  const ms = Date.parse(text.toUpperCase());
  return Number.isFinite(ms) ? ms : undefined;
}

/** 00:00 UTC on the first day of the month of an instant. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

const quote = (text: string) => JSON.stringify(text);

type Values = Record<string, string | undefined>;

/** The arguments as strings; each of `flags` (options without a value) as "true" when given. */
function readArgs(
  command: string,
  usage: string,
  args: readonly string[],
  names: readonly string[],
  flags: readonly string[] = [],
): { values: Values } | { error: string } {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        ...Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
        ...Object.fromEntries(flags.map((n) => [n, { type: 'boolean' as const }])),
      },
      strict: true,
      allowPositionals: false,
    });
    const strings: Values = {};
    for (const [k, v] of Object.entries(values)) strings[k] = typeof v === 'boolean' ? String(v) : v;
    return { values: strings };
  } catch (error) {
    const first = (error as Error).message.split('\n')[0] ?? '';
    return { error: `${command}: ${first}\n${usage}` };
  }
}

/** --from and --to (default: this month so far), --ledger and --cluster, with their problems. */
/** --namespace: absent, or a name (an empty one is a problem). */
function namespaceOf(values: Values, problems: string[]): string | undefined {
  if (values.namespace === '') problems.push('--namespace: "" is empty');
  return values.namespace;
}

/** One line per problem, each naming the command, then the usage. */
function refused(command: string, usage: string, problems: readonly string[]): { error: string } {
  return { error: `${command}: ${problems.join(`\n${command}: `)}\n${usage}` };
}

function common(values: Values, nowMs: number, problems: string[]): Common {
  const instant = (flag: 'from' | 'to', fallback: number): number => {
    const text = values[flag];
    if (text === undefined) return fallback;
    const ms = parseInstant(text);
    if (ms === undefined)
      problems.push(`--${flag}: ${quote(text)} is not a date (2026-11-01) or an RFC 3339 time (2026-11-01T13:00:00Z)`);
    return ms ?? fallback;
  };
  const toMs = instant('to', nowMs);
  const fromMs = instant('from', monthStart(values.to === undefined ? nowMs : toMs - 1));
  if (fromMs >= toMs && problems.length === 0)
    problems.push(
      `--from: ${quote(new Date(fromMs).toISOString())} is not before --to, ${quote(new Date(toMs).toISOString())}`,
    );
  const cluster = values.cluster;
  if (cluster !== undefined && !isClusterId(cluster))
    problems.push(`--cluster: ${quote(cluster)} is not a cluster id (lower case letters, digits, '.', '_', '-')`);
  const ledger = values.ledger;
  if (ledger === '') problems.push('--ledger: "" is empty');
  return { fromMs, toMs, ledger, cluster };
}

function oneOf<T extends string>(flag: string, text: string | undefined, values: readonly T[], problems: string[]): T {
  const fallback = values[0] as T;
  if (text === undefined) return fallback;
  if ((values as readonly string[]).includes(text)) return text as T;
  problems.push(`--${flag}: ${quote(text)} is not one of ${values.join(', ')}`);
  return fallback;
}

export const REPORT_USAGE =
  'Usage: aicost report --by KEY[,KEY...] [--from T] [--to T] [--ledger DIR] [--cluster ID] [--namespace NS]\n' +
  '                     [--format table|csv|json|html] [--idle separate|share|pooled] [--efficiency]';

/** `program`: the name the user typed (program-name.ts), for the messages. */
export function parseReportArgs(args: readonly string[], nowMs: number, program = PROGRAM): Parsed<ReportOptions> {
  const command = `${program} report`;
  const usage = forProgram(REPORT_USAGE, program);
  const read = readArgs(
    command,
    usage,
    args,
    ['by', 'from', 'to', 'ledger', 'cluster', 'namespace', 'format', 'idle', 'engine'],
    ['efficiency'],
  );
  if ('error' in read) return read;
  const { values } = read;
  const problems: string[] = [];
  const base = common(values, nowMs, problems);
  const by = (values.by ?? '').split(',').map((k) => k.trim());
  if (values.by === undefined) problems.push('--by: is required, e.g. --by team or --by team,project');
  else
    for (const key of by)
      if (!LABEL_KEY.test(key))
        problems.push(`--by: ${quote(key)} is not a label key (team, project, namespace, workload, cluster, ...)`);
  if (new Set(by).size !== by.length) problems.push(`--by: ${quote(values.by ?? '')} names a key twice`);
  for (const key of by.filter((k) => k === 'cost' || k === 'currency'))
    problems.push(`--by: ${quote(key)} is the name of a report column, not a key`);
  const format = oneOf('format', values.format, ['table', 'csv', 'json', 'html'] as const, problems);
  const idle = oneOf('idle', values.idle, ['separate', 'share', 'pooled'] as const, problems);
  const engine = oneOf('engine', values.engine, ['auto', 'duckdb', 'js'] as const, problems);
  const namespace = namespaceOf(values, problems);
  const efficiency = values.efficiency === 'true';
  if (efficiency && format === 'html')
    problems.push('--efficiency: the HTML page shows cost only: use table, csv or json');
  if (problems.length > 0) return refused(command, usage, problems);
  return { ...base, by, namespace, format, idle, engine, efficiency };
}

export const RUNS_USAGE =
  'Usage: aicost report runs [--from T] [--to T] [--ledger DIR] [--cluster ID] [--namespace NS] [--format table|csv|json]';

/** `program`: the name the user typed (program-name.ts), for the messages. */
export function parseRunsArgs(args: readonly string[], nowMs: number, program = PROGRAM): Parsed<RunsOptions> {
  const command = `${program} report runs`;
  const usage = forProgram(RUNS_USAGE, program);
  const read = readArgs(command, usage, args, ['from', 'to', 'ledger', 'cluster', 'namespace', 'format']);
  if ('error' in read) return read;
  const problems: string[] = [];
  const base = common(read.values, nowMs, problems);
  const format = oneOf('format', read.values.format, ['table', 'csv', 'json'] as const, problems);
  const namespace = namespaceOf(read.values, problems);
  if (problems.length > 0) return refused(command, usage, problems);
  return { ...base, namespace, format };
}

export const EXPORT_USAGE =
  'Usage: aicost export focus --out FILE [--from T] [--to T] [--ledger DIR] [--cluster ID] [--format parquet|csv]\n' +
  '                          [--provider NAME] [--host-provider NAME]';

/** `program`: the name the user typed (program-name.ts), for the messages. */
export function parseExportArgs(args: readonly string[], nowMs: number, program = PROGRAM): Parsed<ExportOptions> {
  const command = `${program} export focus`;
  const usage = forProgram(EXPORT_USAGE, program);
  const read = readArgs(command, usage, args, [
    'from',
    'to',
    'ledger',
    'cluster',
    'out',
    'format',
    'provider',
    'host-provider',
  ]);
  if ('error' in read) return read;
  const { values } = read;
  const problems: string[] = [];
  const base = common(values, nowMs, problems);
  const out = values.out ?? '';
  if (out === '') problems.push('--out: is required (a .parquet or .csv file)');
  // The extension decides when --format is not given: cost.csv is CSV, anything else Parquet.
  const inferred = out.toLowerCase().endsWith('.csv') ? 'csv' : 'parquet';
  const format = oneOf('format', values.format ?? inferred, ['parquet', 'csv'] as const, problems);
  const provider = values.provider ?? 'Kubernetes';
  const hostProvider = values['host-provider'] ?? provider;
  if (provider === '') problems.push('--provider: "" is empty');
  if (hostProvider === '') problems.push('--host-provider: "" is empty');
  if (problems.length > 0) return refused(command, usage, problems);
  return { ...base, out, format, provider, hostProvider };
}
