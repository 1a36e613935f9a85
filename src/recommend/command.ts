/**
 * `aicost recommend`: reads the ledger and Prometheus, runs the pure rules, prints what would save money.
 * Nothing is changed. A source it cannot reach (a missing ledger, a Prometheus that does not answer) is skipped
 * with a warning on stderr, and the rules that need it give nothing; the command still exits 0, since what the
 * other source shows is still worth printing.
 */
import { existsSync } from 'node:fs';
import { openSink } from '../ledger/open-sink.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { LedgerStore } from '../ledger/store.ts';
import { createPrometheusClient } from '../measure/prometheus-client.ts';
import type { MatrixSeries } from '../measure/gpu-utilization.ts';
import type { CommandIo, ExitCode } from '../report/commands.ts';
import { commitments } from './commitments.ts';
import { formatRecommendations } from './format.ts';
import { podObservations, podQueries, POD_SIGNALS, type PodSignal } from './observe.ts';
import { nodeRecommendations, workloadRecommendations } from './recommend-from.ts';
import { parseRecommendArgs, type RecommendOptions } from './options.ts';
import type { Recommendation } from './types.ts';
import type { PodObservation } from './workload-observation.ts';

/** The finished windows of the look-back, or undefined when the ledger could not be read. */
async function readLedger(o: RecommendOptions, io: CommandIo, fromMs: number): Promise<LedgerRow[] | undefined> {
  const location = io.ledger(o.ledger);
  // A directory that is not there is a wrong path, not an empty ledger: opening it would create it.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !existsSync(location)) {
    io.err(`${io.program} recommend: warning: no ledger at ${location}: skipped (empty nodes and commitments need it)`);
    return undefined;
  }
  try {
    const store = new LedgerStore(await openSink(location, io.s3(location)));
    const rows: LedgerRow[] = [];
    // The open window is left out: its rows cover part of it, which would read as a node half empty.
    // Only what a rule reads is kept (a month of a large cluster is millions of rows): GPU nodes' Node rows, and
    // the rows of workloads that held GPUs (every rule is about GPUs; CPU-only nodes are accounted too).
    for await (const w of store.readRange({ fromMs, toMs: io.nowMs, clusterId: o.cluster }))
      if (w.compacted)
        for (const r of w.rows) if (r.windowEndMs <= io.nowMs && (r.compute === 'gpu' || r.gpuHours > 0n)) rows.push(r);
    return rows;
  } catch (error) {
    io.err(`${io.program} recommend: warning: the ledger at ${location} could not be read: ${causes(error)}: skipped`);
    return undefined;
  }
}

async function readPods(
  o: RecommendOptions,
  io: CommandIo,
  windowSeconds: number,
): Promise<Map<string, PodObservation> | undefined> {
  if (o.prometheusUrl === undefined) {
    io.err(`${io.program} recommend: warning: no --prometheus-url: right-sizing skipped`);
    return undefined;
  }
  const client = createPrometheusClient({ url: o.prometheusUrl, timeoutMs: o.prometheusTimeoutMs }, () => io.nowMs);
  const queries = podQueries(windowSeconds, o.rightSize.idleUtilization);
  const time = Math.floor(io.nowMs / 1000);
  try {
    const answers = await Promise.all(POD_SIGNALS.map((s) => client.queryVector(queries[s], time)));
    const bySignal = Object.fromEntries(POD_SIGNALS.map((s, i) => [s, answers[i] ?? []])) as Record<
      PodSignal,
      MatrixSeries[]
    >;
    return podObservations(bySignal, windowSeconds, o.scrapeIntervalSeconds);
  } catch (error) {
    io.err(`${io.program} recommend: warning: Prometheus could not be read: ${causes(error)}: right-sizing skipped`);
    return undefined;
  }
}

function causes(error: unknown): string {
  const list: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) list.push(e.message);
  return list.join(': ') || String(error);
}

/** Every recommendation the two sources allow; a source that could not be read is undefined. */
function recommendFrom(
  o: RecommendOptions,
  nowMs: number,
  rows: readonly LedgerRow[] | undefined,
  pods: ReadonlyMap<string, PodObservation> | undefined,
): Recommendation[] {
  const found: Recommendation[] = [];
  const windowMs = o.rightSize.minObservedSeconds * 1000;
  if (rows !== undefined && pods !== undefined) {
    // The last finished windows that make up the window: a span ending at `now` would start inside a ledger
    // window, which would then be left out, and the ledger would never cover the whole window.
    const end = rows.reduce((latest, r) => Math.max(latest, r.windowEndMs), 0);
    const recent = rows.filter((r) => r.windowStartMs >= end - windowMs);
    found.push(...workloadRecommendations(recent, pods, o.rightSize));
  }
  if (rows !== undefined && rows.length > 0) {
    found.push(...nodeRecommendations(rows, o.emptyNode));
    const first = new Map<string, number>();
    for (const r of rows) first.set(r.clusterId, Math.min(first.get(r.clusterId) ?? Infinity, r.windowStartMs));
    const ledgerWindowMs = (rows[0]?.windowEndMs ?? 0) - (rows[0]?.windowStartMs ?? 0);
    found.push(...commitments(rows, nowMs, ledgerWindowMs, first, o.commitment));
  }
  return found;
}

export async function recommendCommand(args: readonly string[], io: CommandIo): Promise<ExitCode> {
  const o = parseRecommendArgs(args, io.program);
  if ('error' in o) {
    io.err(o.error);
    return 2;
  }
  const windowSeconds = o.rightSize.minObservedSeconds;
  const lookbackMs = Math.max(o.commitment.lookbackMs, windowSeconds * 1000);
  const [rows, pods] = await Promise.all([readLedger(o, io, io.nowMs - lookbackMs), readPods(o, io, windowSeconds)]);
  io.out(formatRecommendations(recommendFrom(o, io.nowMs, rows, pods), o.format));
  return 0;
}
