/** Ledger rows for the tests of src/ledger: every field set to a value that is not a default. */
import type { LedgerRow } from '../ledger/row.ts';

export const WINDOW_START_MS = Date.UTC(2026, 10, 1, 13); // 2026-11-01T13:00:00Z
export const HOUR_MS = 3_600_000;

export function jobRow(overrides: Partial<LedgerRow> = {}): LedgerRow {
  return {
    clusterId: 'prod-1',
    windowStartMs: WINDOW_START_MS,
    windowEndMs: WINDOW_START_MS + HOUR_MS,
    namespace: 'ml-alpha',
    workloadKind: 'Job',
    workloadName: 'train-llama',
    workloadUid: '6a1f0c2e-0000-4000-8000-000000000001',
    team: 'alpha',
    project: 'llm',
    experiment: 'exp-42',
    model: 'llama-3-8b',
    labels: { team: 'alpha', project: 'llm', 'aicost.dev/experiment': 'exp-42', note: 'é ✓ "quoted"' },
    namespaceLabels: { 'kubernetes.io/metadata.name': 'ml-alpha', team: 'alpha', owner: 'é ✓ "quoted"' },
    nodePool: 'gpu-a100',
    instanceType: 'p4d.24xlarge',
    region: 'us-east-1',
    zone: 'us-east-1a',
    capacityType: 'spot',
    gpuModel: 'NVIDIA-A100-SXM4-40GB',
    podCount: 3,
    gpuHours: 8_000_000_000n,
    idleGpuHours: 277_778n,
    utilization: 0.8125,
    cost: 12_345_678_901_234_567n, // 12,345,678.901234567: more digits than a double keeps
    idleGpuCost: 1n,
    onDemandEquivalent: 32_772_000_000n,
    spotSavings: -5n,
    currency: 'USD',
    pricingSource: 'catalog:aws-2026-10',
    estimate: true,
    jobOutcome: 'succeeded',
    imported: true,
    compute: 'gpu',
    ...overrides,
  };
}

export function nodeRow(overrides: Partial<LedgerRow> = {}): LedgerRow {
  return jobRow({
    namespace: '',
    workloadKind: 'Node',
    workloadName: 'ip-10-0-0-1',
    workloadUid: '6a1f0c2e-0000-4000-8000-0000000000ff',
    team: '',
    project: '',
    experiment: '',
    model: '',
    labels: {},
    namespaceLabels: {},
    podCount: 0,
    utilization: null,
    cost: 7_000_000_001n,
    spotSavings: 0n,
    estimate: false,
    jobOutcome: '',
    imported: false,
    ...overrides,
  });
}
