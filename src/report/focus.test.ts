import { describe, expect, it } from 'vitest';
import { jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { FOCUS_COLUMNS, focusRow, MANDATORY_COLUMNS } from './focus.ts';

const options = { provider: 'ACME Platform', hostProvider: 'AWS' };

describe('FOCUS 1.3 rows', () => {
  it('has every mandatory column, once, and x_ before no FOCUS column', () => {
    const names = FOCUS_COLUMNS.map((c) => c.name);
    for (const name of MANDATORY_COLUMNS) expect(names).toContain(name);
    expect(new Set(names).size).toBe(names.length);
    const firstCustom = names.findIndex((n) => n.startsWith('x_'));
    expect(names.slice(firstCustom).every((n) => n.startsWith('x_'))).toBe(true);
  });

  it('a workload row is an allocated charge: EffectiveCost its cost, GPU-hours consumed, labels as Tags', () => {
    expect(focusRow(jobRow({ labels: { team: 'alpha', 'aicost.dev/team': 'x' } }), options)).toMatchObject({
      AllocatedMethodId: 'aicost-requests-share-v1',
      AllocatedResourceId: '6a1f0c2e-0000-4000-8000-000000000001',
      AllocatedResourceName: 'ml-alpha/Job/train-llama',
      // No key of Tags again (FOCUS 1.3 AllocatedTags).
      AllocatedTags:
        '{"aicost.dev/experiment":"exp-42","aicost.dev/model":"llama-3-8b","aicost.dev/namespace":"ml-alpha",' +
        '"aicost.dev/project":"llm","aicost.dev/workload-kind":"Job","aicost.dev/workload-name":"train-llama"}',
      BilledCost: 12_345_678_901_234_567n,
      EffectiveCost: 12_345_678_901_234_567n,
      ListCost: 32_772_000_000n,
      ContractedCost: 32_772_000_000n,
      BillingAccountId: 'prod-1',
      BillingCurrency: 'USD',
      BillingPeriodStart: Date.UTC(2026, 10, 1),
      BillingPeriodEnd: Date.UTC(2026, 11, 1),
      ChargePeriodStart: Date.UTC(2026, 10, 1, 13),
      ChargePeriodEnd: Date.UTC(2026, 10, 1, 14),
      ChargeCategory: 'Usage',
      ChargeClass: null,
      ChargeDescription: 'Kubernetes node capacity, p4d.24xlarge (spot), in cluster prod-1, split by requests',
      ConsumedQuantity: 8_000_000_000n,
      ConsumedUnit: 'GPU-Hours',
      PricingQuantity: 8_000_000_000n,
      PricingUnit: 'GPU-Hours',
      PricingCategory: 'Dynamic',
      HostProviderName: 'AWS',
      ServiceProviderName: 'ACME Platform',
      ProviderName: 'ACME Platform',
      PublisherName: 'ACME Platform',
      InvoiceIssuerName: 'ACME Platform',
      InvoiceId: null,
      ResourceId: 'prod-1',
      SkuId: 'p4d.24xlarge',
      SkuPriceId: 'catalog:aws-2026-10:p4d.24xlarge:spot',
      Tags: '{"aicost.dev/team":"x","team":"alpha"}',
      x_Utilization: 0.8125,
      x_JobOutcome: 'succeeded',
      x_Compute: 'gpu',
      x_StorageCost: 0n,
    });
  });

  it("carries a row's storage cost apart from the compute cost (issue #18)", () => {
    const row = jobRow({
      workloadKind: 'PersistentVolumeClaim',
      workloadName: 'ckpt',
      jobOutcome: '',
      cost: 0n,
      storageCost: 10_958_880n,
    });
    expect(focusRow(row, options)).toMatchObject({
      BilledCost: 0n,
      x_StorageCost: 10_958_880n,
      x_WorkloadKind: 'PersistentVolumeClaim',
    });
  });

  it('an idle row is the unallocated part: method set, no allocated resource, no tags', () => {
    expect(focusRow(nodeRow({ capacityType: 'on-demand' }), options)).toMatchObject({
      AllocatedMethodId: 'aicost-requests-share-v1',
      AllocatedResourceId: null,
      AllocatedResourceName: null,
      AllocatedTags: null,
      Tags: null,
      EffectiveCost: 7_000_000_001n,
      PricingCategory: 'Standard',
      x_WorkloadKind: 'Node',
      x_WorkloadName: 'ip-10-0-0-1',
      x_Compute: 'gpu',
    });
  });

  it('a CPU workload row: no GPU-hours consumed, its cost all the same, x_Compute cpu', () => {
    const etl = jobRow({ gpuHours: 0n, idleGpuHours: 0n, utilization: null, compute: 'cpu', cost: 96_800_000n });
    expect(focusRow(etl, options)).toMatchObject({
      EffectiveCost: 96_800_000n,
      ConsumedQuantity: 0n,
      PricingQuantity: 0n,
      x_Compute: 'cpu',
    });
    expect(focusRow(nodeRow({ gpuHours: 0n, compute: 'cpu' }), options)).toMatchObject({ x_Compute: 'cpu' });
  });
});
