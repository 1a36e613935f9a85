import { describe, expect, it } from 'vitest';
import { formatMoney, parseMoney } from '../cost/money.ts';
import { ON_DEMAND_CATALOG } from '../pricing/on-demand-catalog.ts';
import { WORKED_EXAMPLE_JSON } from '../testing/recommend-example.ts';
import { recommendationJson } from './format.ts';
import { DEFAULT_RIGHT_SIZE, fewerGpus, rightSize } from './right-size.ts';
import type { PodObservation, WorkloadObservation } from './workload-observation.ts';

const DAY = 86_400;

function pod(overrides: Partial<PodObservation> = {}): PodObservation {
  return {
    pod: 'serving/chat-api-7d4b9c8f6d-x2x9q',
    gpus: 1,
    busiestUtilization: 0.1,
    unusedGpus: 0,
    coverage: 1,
    maxMemoryUsedMiB: 6144,
    ...overrides,
  };
}

/** The worked example of docs/unit-economics.md#recommendations: an A100 of a p4d, 10 % busy, 6 GiB used. */
function workload(overrides: Partial<WorkloadObservation> = {}): WorkloadObservation {
  return {
    clusterId: 'prod-1',
    target: 'serving/Deployment/chat-api',
    workloadClass: 'inference',
    instanceType: 'p4d.24xlarge',
    region: 'us-east-1',
    gpuModel: 'NVIDIA-A100-SXM4-40GB',
    currency: 'USD',
    costPerHour: parseMoney('1.76070525'),
    observedSeconds: DAY,
    pods: [pod()],
    ...overrides,
  };
}

const saving = (w: WorkloadObservation) => {
  const r = rightSize(w, ON_DEMAND_CATALOG);
  return r && [r.details.recommendedInstanceType, formatMoney(r.monthlySaving, 9), r.confidence];
};

describe('rightSize', () => {
  it('the worked example of docs/unit-economics.md: an A100 at 10 % with 6 GiB used goes to a T4', () => {
    const r = rightSize(workload(), ON_DEMAND_CATALOG);
    // (1.76070525 - 0.526) x 730
    expect(r?.monthlySaving).toBe(parseMoney('901.3348325'));
    expect(r && recommendationJson(r)).toEqual(WORKED_EXAMPLE_JSON[2]);
  });

  it.each<[string, Partial<WorkloadObservation>, unknown]>([
    ['a week of data is high confidence', { observedSeconds: 7 * DAY }, ['g4dn.xlarge', '901.334832500', 'high']],
    [
      'two pods: two instances, compared with the cost of both',
      { costPerHour: parseMoney('3.5214105'), pods: [pod(), pod({ pod: 'serving/chat-api-7d4b9c8f6d-k2j4m' })] },
      ['g4dn.xlarge', '1802.669665000', 'medium'],
    ],
    [
      'memory that needs more than a T4 with headroom (14,000 MiB x 1.25 = 17,500) goes to an L4',
      { pods: [pod({ maxMemoryUsedMiB: 14_000 })] },
      ['g6.xlarge', '697.810832500', 'medium'],
    ],
    [
      'four GPUs per pod keep four: the cheapest four-GPU type',
      { costPerHour: parseMoney('7.042821'), pods: [pod({ gpus: 4 })] },
      ['g4dn.12xlarge', '2285.499330000', 'medium'],
    ],
    [
      'in GCP, the cheapest GCP type (an L4)',
      { instanceType: 'a2-highgpu-1g', region: 'us-central1', costPerHour: parseMoney('3.673385') },
      ['g2-standard-4', '2126.771050000', 'medium'],
    ],
    // The "no recommendation" cases.
    ['a training Job', { workloadClass: 'training' }, undefined],
    ['less than the window of data (23 h)', { observedSeconds: DAY - 3600 }, undefined],
    ['partial metrics: samples cover 90 % of the window', { pods: [pod({ coverage: 0.9 })] }, undefined],
    ['partial metrics: no memory series', { pods: [pod({ maxMemoryUsedMiB: undefined })] }, undefined],
    ['no pods measured', { pods: [] }, undefined],
    ['a GPU 35 % busy', { pods: [pod(), pod({ pod: 'serving/b', busiestUtilization: 0.35 })] }, undefined],
    ['more than half the memory used', { pods: [pod({ maxMemoryUsedMiB: 20_481 })] }, undefined],
    ['an instance type the catalog does not price', { instanceType: 'x9.metal' }, undefined],
    [
      'nothing cheaper fits: a T4 already',
      {
        instanceType: 'g4dn.xlarge',
        gpuModel: 'Tesla-T4',
        costPerHour: parseMoney('0.526'),
        pods: [pod({ maxMemoryUsedMiB: 2000 })],
      },
      undefined,
    ],
    [
      'nothing cheaper fits: 40,000 MiB of an H100 needs an 80 GB GPU',
      {
        instanceType: 'p5.4xlarge',
        gpuModel: 'NVIDIA-H100-80GB-HBM3',
        costPerHour: parseMoney('6.88'),
        pods: [pod({ maxMemoryUsedMiB: 40_000 })],
      },
      undefined,
    ],
  ])('%s', (_, overrides, expected) => {
    expect(saving(workload(overrides))).toEqual(expected);
  });

  it('marks the price an estimate in a region the catalog does not price', () => {
    expect(rightSize(workload({ region: 'eu-west-1' }), ON_DEMAND_CATALOG)?.details.priceEstimate).toBe(true);
  });

  it('takes the window and the headroom from its settings', () => {
    const settings = { ...DEFAULT_RIGHT_SIZE, minObservedSeconds: 7 * DAY, headroomPercent: 200 };
    expect(rightSize(workload(), ON_DEMAND_CATALOG, settings)).toBeUndefined();
    const r = rightSize(workload({ observedSeconds: 7 * DAY }), ON_DEMAND_CATALOG, settings);
    // 6,144 x 3 = 18,432 MiB: more than a T4's 16,384, so an L4.
    expect(r?.details.recommendedInstanceType).toBe('g6.xlarge');
  });
});

describe('fewerGpus', () => {
  const four = (unusedGpus: number, name = 'serving/chat-api-7d4b9c8f6d-x2x9q') =>
    pod({ pod: name, gpus: 4, busiestUtilization: 0.6, unusedGpus });
  const cut = (w: WorkloadObservation) => {
    const r = fewerGpus(w);
    return r && [r.details.recommendedGpusPerPod, formatMoney(r.monthlySaving, 9)];
  };

  it.each<[string, Partial<WorkloadObservation>, unknown]>([
    [
      'three of four GPUs unused: one, saving three quarters',
      { costPerHour: parseMoney('8'), pods: [four(3)] },
      [1, '4380.000000000'],
    ],
    [
      'every pod must leave them unused: the fewest unused counts',
      { costPerHour: parseMoney('8'), pods: [four(3), four(1, 'serving/chat-api-7d4b9c8f6d-k2j4m')] },
      [3, '1460.000000000'],
    ],
    ['rounded half up to the nano', { costPerHour: 1_000_000_001n, pods: [four(1)] }, [3, '182.500000000']],
    ['a training Job too (its next run)', { workloadClass: 'training', pods: [four(2)] }, [2, '642.657416250']],
    // The "no recommendation" cases.
    ['every GPU used', { pods: [four(0)] }, undefined],
    ['one GPU per pod', { pods: [pod({ unusedGpus: 1 })] }, undefined],
    ['all four unused (an idle workload: the idle policy)', { pods: [four(4)] }, undefined],
    ['less than the window of data', { observedSeconds: 3600, pods: [four(3)] }, undefined],
    ['partial metrics', { pods: [{ ...four(3), coverage: 0.5 }] }, undefined],
  ])('%s', (_, overrides, expected) => {
    expect(cut(workload(overrides))).toEqual(expected);
  });
});
