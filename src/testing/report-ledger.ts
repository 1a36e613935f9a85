/**
 * A small ledger for the report tests, with figures simple enough to add up by hand:
 *
 * cluster prod-1, windows 2026-11-01T00:00Z and 01:00Z (compacted) and 02:00Z (only pieces: the current window):
 *   Job train-a (team alpha, exp-1)       1.000000001 per window, succeeded in its last window (01:00)
 *   Job train-b (team alpha, exp-1)       2.5 per window, failed at 00:00, then deleted: no later rows
 *   Deployment serve (team beta, label environment=prod)   0.333333333 per window; from 01:00 its series name
 *     the model mistral-7b (its `model` label says llama-3-8b) and count 1,440,000 prompt and 2,160,000
 *     generated tokens and 7,200 requests per window
 *   Pod scratch (no team label)           0.1 per window; from 01:00 a server whose series name no model
 *     counts 1,000 prompt and 3,000 generated tokens and 10 requests per window
 *   Node gpu-1 idle                       0.7 per window
 * cluster prod-2, window 2026-11-01T00:00Z:
 *   Job train-c (team beta, exp-2)        4 (running)
 *   Node gpu-9 idle                       1
 *
 * prod-1's first window is a file as written before the namespace_labels column, so that every reader (the
 * engines, `aicost report`, the export, the kubectl plugin) is tested on a ledger of both.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { windowKey } from '../ledger/layout.ts';
import { LocalSink } from '../ledger/local-sink.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { LedgerStore } from '../ledger/store.ts';
import { encodeRowsBeforeNamespaceLabels } from './ledger-before-namespace-labels.ts';
import { HOUR_MS, jobRow, nodeRow } from './ledger-rows.ts';

export const T0 = Date.UTC(2026, 10, 1); // 2026-11-01T00:00:00Z

const at = (clusterId: string, startMs: number) => ({
  clusterId,
  windowStartMs: startMs,
  windowEndMs: startMs + HOUR_MS,
});

function workload(name: string, overrides: Partial<LedgerRow>): Partial<LedgerRow> {
  return { workloadName: name, workloadUid: `uid-${name}`, ...overrides };
}

export function prod1Rows(startMs: number): LedgerRow[] {
  const w = at('prod-1', startMs);
  const rows: LedgerRow[] = [
    jobRow({
      ...w,
      ...workload('train-a', { team: 'alpha', experiment: 'exp-1', labels: { team: 'alpha' } }),
      cost: 1_000_000_001n,
      gpuHours: 1_000_000_000n,
      idleGpuCost: 100_000_000n,
      utilization: startMs === T0 ? 0.5 : 1,
      jobOutcome: startMs === T0 + HOUR_MS ? 'succeeded' : 'running',
    }),
  ];
  if (startMs === T0)
    rows.push(
      jobRow({
        ...w,
        ...workload('train-b', { team: 'alpha', experiment: 'exp-1', labels: { team: 'alpha' } }),
        cost: 2_500_000_000n,
        gpuHours: 2_000_000_000n,
        idleGpuCost: 0n,
        utilization: null,
        jobOutcome: 'failed',
      }),
    );
  rows.push(
    jobRow({
      ...w,
      ...workload('serve', {
        workloadKind: 'Deployment',
        namespace: 'serving',
        team: 'beta',
        project: '',
        experiment: '',
        labels: { team: 'beta', environment: 'prod' },
        jobOutcome: '',
      }),
      cost: 333_333_333n,
      servedModels: 'mistral-7b',
      promptTokens: 1_440_000n,
      generatedTokens: 2_160_000n,
      requests: 7_200n,
    }),
    jobRow({
      ...w,
      ...workload('scratch', {
        workloadKind: 'Pod',
        namespace: 'sandbox',
        team: '',
        project: '',
        experiment: '',
        model: '',
        labels: {},
        jobOutcome: '',
      }),
      cost: 100_000_000n,
      servedModels: '',
      promptTokens: 1_000n,
      generatedTokens: 3_000n,
      requests: 10n,
    }),
    nodeRow({ ...w, workloadName: 'gpu-1', workloadUid: 'node-gpu-1', cost: 700_000_000n }),
  );
  return rows;
}

export function prod2Rows(startMs: number): LedgerRow[] {
  const w = at('prod-2', startMs);
  return [
    jobRow({
      ...w,
      ...workload('train-c', { team: 'beta', experiment: 'exp-2', labels: { team: 'beta' } }),
      cost: 4_000_000_000n,
      jobOutcome: 'running',
    }),
    nodeRow({ ...w, workloadName: 'gpu-9', workloadUid: 'node-gpu-9', cost: 1_000_000_000n }),
  ];
}

/** `aicost report --by team --format json` over the whole ledger, added up by hand from the table above. */
export const BY_TEAM_JSON = [
  { team: 'alpha', cost: '5.500000003', currency: 'USD' },
  { team: 'beta', cost: '4.999999999', currency: 'USD' },
  { team: '', cost: '0.30', currency: 'USD' },
  { team: '__idle__', cost: '3.10', currency: 'USD' },
] as const;

/** What a model whose rows counted nothing shows. */
const UNSERVED = {
  promptTokens: null,
  generatedTokens: null,
  requests: null,
  costPerMillionTokens: null,
  costPerThousandRequests: null,
} as const;

/**
 * `aicost report --by model --format json` over the whole ledger. 00:00's file predates the served columns, so
 * serve's first window goes by its label. mistral-7b: 0.666666666 × 10^6 / 7,200,000 tokens = 0.0925925925 →
 * 0.092592593, × 10^3 / 14,400 requests = 0.046296296(25); no model: 0.2 × 10^6 / 8,000 = 25, × 10^3 / 20 = 10.
 */
export const BY_MODEL_JSON = [
  {
    model: 'llama-3-8b',
    cost: '9.833333336',
    currency: 'USD',
    ...UNSERVED,
  },
  {
    model: 'mistral-7b',
    cost: '0.666666666',
    currency: 'USD',
    promptTokens: '2880000',
    generatedTokens: '4320000',
    requests: '14400',
    costPerMillionTokens: '0.092592593',
    costPerThousandRequests: '0.046296296',
  },
  {
    model: '',
    cost: '0.30',
    currency: 'USD',
    promptTokens: '2000',
    generatedTokens: '6000',
    requests: '20',
    costPerMillionTokens: '25.00',
    costPerThousandRequests: '10.00',
  },
  {
    model: '__idle__',
    cost: '3.10',
    currency: 'USD',
    ...UNSERVED,
  },
] as const;

/** Every row of the ledger, for totals. */
export function allRows(): LedgerRow[] {
  return [...prod1Rows(T0), ...prod1Rows(T0 + HOUR_MS), ...prod1Rows(T0 + 2 * HOUR_MS), ...prod2Rows(T0)];
}

/** Writes the ledger into `dir`: two compacted windows and one in pieces for prod-1, one window for prod-2. */
export async function writeReportLedger(dir: string): Promise<LedgerStore> {
  const sink = await LocalSink.open(dir);
  const store = new LedgerStore(sink);
  await sink.put(windowKey('prod-1', T0), encodeRowsBeforeNamespaceLabels(prod1Rows(T0)));
  await store.writeWindow('prod-1', T0 + HOUR_MS, prod1Rows(T0 + HOUR_MS));
  const current = prod1Rows(T0 + 2 * HOUR_MS);
  await store.writePiece('prod-1', T0 + 2 * HOUR_MS, 'a', current.slice(0, 2));
  await store.writePiece('prod-1', T0 + 2 * HOUR_MS, 'b', current.slice(2));
  await store.writeWindow('prod-2', T0, prod2Rows(T0));
  return store;
}

/** A new temporary directory with this ledger in its `ledger/`, for the tests that run the CLI over it. */
export async function reportLedgerDir(prefix: string): Promise<{ dir: string; ledger: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const ledger = join(dir, 'ledger');
  await writeReportLedger(ledger);
  return { dir, ledger };
}
