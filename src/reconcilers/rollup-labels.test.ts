import { describe, expect, it } from 'vitest';
import type { PodFacts } from '../cost/types.ts';
import { RollupLabels, rollupLabelValues, type LabelSources } from './rollup-labels.ts';

const keys = ['team', 'project', 'environment'];

describe('roll-up label values', () => {
  it.each([
    ['the pod carries every key', { team: 'a', project: 'p', environment: 'dev' }, {}, {}, ['a', 'p', 'dev']],
    [
      'the pod over its workload and namespace',
      { team: 'a' },
      { team: 'b' },
      { team: 'c' },
      ['a', '__unset__', '__unset__'],
    ],
    ['the workload where the pod lacks a key', {}, { team: 'b', project: 'q' }, { team: 'c' }, ['b', 'q', '__unset__']],
    ['the namespace where both lack it', {}, { project: 'q' }, { team: 'c', environment: 'prod' }, ['c', 'q', 'prod']],
    [
      'key by key, from each source',
      { environment: 'dev' },
      { project: 'q' },
      { team: 'c', project: 'r' },
      ['c', 'q', 'dev'],
    ],
    [
      'no workload (a bare pod) and no namespace labels',
      {},
      undefined,
      undefined,
      ['__unset__', '__unset__', '__unset__'],
    ],
    ['an empty value is carried', { team: '' }, { team: 'b' }, {}, ['', '__unset__', '__unset__']],
  ])('%s', (_, pod, workload, namespace, expected) => {
    expect(rollupLabelValues(keys, pod, workload, namespace)).toEqual(expected);
  });
});

describe('RollupLabels', () => {
  const job = { kind: 'Job', namespace: 'ml', name: 'train' } as const;
  function pod(labels: Record<string, string>, workload: PodFacts['workload'] = job): PodFacts {
    return {
      uid: 'u',
      namespace: 'ml',
      name: 'p',
      nodeName: 'n',
      gpuUnits: 1,
      cpuMillis: 0,
      memoryBytes: 0,
      from: 0,
      labels,
      workload,
    };
  }
  function sources(): LabelSources & { workloads: Map<string, Record<string, string>>; lookups: number } {
    const s = {
      workloads: new Map([['Job/ml/train', { team: 'research' }]]),
      namespaces: new Map([['ml', { team: 'platform', project: 'llm' }]]),
      lookups: 0,
      workload: (kind: string, key: string) => (s.lookups++, s.workloads.get(`${kind}/${key}`)),
      namespace: (name: string) => s.namespaces.get(name),
    };
    return s;
  }

  it('reads the workload and the namespace, and builds the values again only when a source changed', () => {
    const s = sources();
    const labels = new RollupLabels(['team', 'project'], s);
    const p = pod({});
    const first = labels.of(p);
    expect(first.values).toEqual(['research', 'llm']);
    expect(labels.of(p)).toBe(first);
    // The cache replaces a workload's labels object when the workload changes.
    s.workloads.set('Job/ml/train', { team: 'vision' });
    expect(labels.of(p).values).toEqual(['vision', 'llm']);
    // The pod is adopted by a Deployment the sources do not know: the namespace's team is next.
    expect(labels.of({ ...p, workload: { kind: 'Deployment', namespace: 'ml', name: 'web' } }).values).toEqual([
      'platform',
      'llm',
    ]);
  });

  it('does not look up the workload of a pod that carries every key', () => {
    const s = sources();
    const labels = new RollupLabels(['team'], s);
    const p = pod({ team: 'own' });
    expect(labels.of(p).values).toEqual(['own']);
    expect(labels.of(p).values).toEqual(['own']);
    expect(s.lookups).toBe(0);
    // Pods with the same values share them: 10,000 pods keep a handful of combinations.
    expect(labels.of(pod({ team: 'own' }))).toBe(labels.of(p));
  });
});
