/**
 * The report commands' thin I/O: parse the arguments, open the ledger, choose the engine, aggregate, print.
 * Everything they compute is in the pure modules beside this one; the time and the ledger location come
 * from the composition root (src/main.ts), so these functions read no clock and no environment.
 */
import { localDirectory, openSink } from '../ledger/open-sink.ts';
import { LedgerStore } from '../ledger/store.ts';
import type { S3Settings } from '../ledger/s3-settings.ts';
import { reportRows, type Group } from './aggregate.ts';
import { groupsDuckDb, loadDuckDb, runsDuckDb, timelineDuckDb } from './engine-duckdb.ts';
import { groupsJs, runsJs, timelineJs, type Scope } from './engine-js.ts';
import { exportFocus } from './focus-writer.ts';
import { decimal, formatReport, formatRuns } from './format.ts';
import { buildHtmlModel } from './html-model.ts';
import { renderHtmlReport } from './html-page.ts';
import { parseExportArgs, parseReportArgs, parseRunsArgs, type Engine } from './options.ts';
import { toRuns, type RunSum } from './runs.ts';
import { bucketingFor, type TimelineSums } from './timeline.ts';

export interface CommandIo {
  readonly nowMs: number;
  /** The name the user typed, `aicost` or `kubectl aicost` (src/program-name.ts), for usage messages. */
  readonly program: string;
  /** The ledger when --ledger is not given: AICOST_LEDGER or the default (src/config/ledger-location.ts). */
  readonly ledger: (flag: string | undefined) => string;
  /** For an s3:// ledger, its AWS_* settings (src/config/ledger-location.ts); undefined for a directory. */
  readonly s3: (location: string) => S3Settings | undefined;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export type ExitCode = 0 | 1 | 2;

/** The store, and the local directory DuckDB can read when the ledger is one. */
async function openStore(
  location: string,
  io: CommandIo,
): Promise<{ store: LedgerStore; directory: string | undefined }> {
  const sink = await openSink(location, io.s3(location));
  return { store: new LedgerStore(sink), directory: localDirectory(sink) };
}

/** Which engine runs: DuckDB when asked or available over a local ledger, JavaScript otherwise. */
async function withEngine<T>(
  wanted: Engine,
  store: LedgerStore,
  directory: string | undefined,
  duckdb: (d: NonNullable<Awaited<ReturnType<typeof loadDuckDb>>>, dir: string) => Promise<T>,
  js: () => Promise<T>,
): Promise<T> {
  if (wanted === 'js') return js();
  const module = directory === undefined ? undefined : await loadDuckDb();
  if (module && directory !== undefined) return duckdb(module, directory);
  if (wanted === 'duckdb')
    throw new Error(
      directory === undefined
        ? `--engine duckdb reads local ledgers only, not ${store.url}`
        : '--engine duckdb: @duckdb/node-api is not installed (it is an optional dependency)',
    );
  return js();
}

export async function reportCommand(args: readonly string[], io: CommandIo): Promise<ExitCode> {
  const options = parseReportArgs(args, io.nowMs, io.program);
  if ('error' in options) {
    io.err(options.error);
    return 2;
  }
  const { store, directory } = await openStore(io.ledger(options.ledger), io);
  const scope: Scope = options;
  const scoped = { ...scope, clusterId: options.cluster };
  if (options.format === 'html') {
    const bucketing = bucketingFor(options);
    const sums: TimelineSums = await withEngine(
      options.engine,
      store,
      directory,
      (duckdb, dir) => timelineDuckDb(duckdb, store, dir, scoped, options.by, bucketing),
      () => timelineJs(store, scoped, options.by, bucketing),
    );
    io.out(renderHtmlReport(buildHtmlModel({ ...options, bucketing, nowMs: io.nowMs, sums })));
    return 0;
  }
  const groups: Group[] = await withEngine(
    options.engine,
    store,
    directory,
    (duckdb, dir) => groupsDuckDb(duckdb, store, dir, scoped, options.by, options.efficiency),
    () => groupsJs(store, scoped, options.by, options.efficiency),
  );
  io.out(formatReport(reportRows(groups, options.idle, options.by), options.by, options.format, options.efficiency));
  return 0;
}

export async function runsCommand(args: readonly string[], io: CommandIo): Promise<ExitCode> {
  const options = parseRunsArgs(args, io.nowMs, io.program);
  if ('error' in options) {
    io.err(options.error);
    return 2;
  }
  const { store, directory } = await openStore(io.ledger(options.ledger), io);
  const scope: Scope = { ...options, clusterId: options.cluster };
  const sums: RunSum[] = await withEngine(
    'auto',
    store,
    directory,
    (duckdb, dir) => runsDuckDb(duckdb, store, dir, scope),
    () => runsJs(store, scope),
  );
  io.out(formatRuns(toRuns(sums), options.format));
  return 0;
}

export async function exportCommand(args: readonly string[], io: CommandIo): Promise<ExitCode> {
  const [what, ...rest] = args;
  if (what !== 'focus') {
    io.err(
      `${io.program} export: ${what === undefined ? 'name a format' : `unknown format "${what}"`}: ` +
        `the one there is is "focus" (${io.program} export focus --help)`,
    );
    return 2;
  }
  const options = parseExportArgs(rest, io.nowMs, io.program);
  if ('error' in options) {
    io.err(options.error);
    return 2;
  }
  const { store } = await openStore(io.ledger(options.ledger), io);
  const result = await exportFocus(
    store,
    { fromMs: options.fromMs, toMs: options.toMs, clusterId: options.cluster },
    options.out,
    options.format,
    { provider: options.provider, hostProvider: options.hostProvider },
  );
  const sums = [...result.effectiveCost].map(([currency, nanos]) => `${decimal(nanos)} ${currency}`).join(', ');
  io.err(`wrote ${result.rows} FOCUS rows to ${options.out}; EffectiveCost ${sums || '0.00'}`);
  return 0;
}
