import { describe, expect, it } from 'vitest';
import { assignGpus, modelNameOf, parsePattern, renderMetrics, utilizationAt } from '../cluster/dcgm-model.ts';

describe('DCGM simulator model', () => {
  it.each([
    ['73', 0, 73],
    ['73', 99_999, 73],
    ['90 for 10m, then 0', 599, 90],
    ['90 for 10m, then 0', 600, 0],
    ['80 for 5m, 20 for 5m, then 3', 301, 20],
    ['80 for 5m, 20 for 5m, then 3', 601, 3],
    ['50 for 30s', 31, 0],
  ])('pattern %j at %d s is %d %%', (pattern, seconds, percent) => {
    expect(utilizationAt(parsePattern(pattern), seconds)).toBe(percent);
  });

  it.each(['abc', '120', '90 then 0', '50, 20'])('rejects %j', (pattern) => {
    expect(() => parsePattern(pattern)).toThrow();
  });

  it('assigns the lowest free GPUs and keeps them while the pod lives', () => {
    const a = { uid: 'a', namespace: 'n', pod: 'a', container: 'c', count: 2 };
    const b = { uid: 'b', namespace: 'n', pod: 'b', container: 'c', count: 3 };
    const first = assignGpus(8, [a, b], new Map());
    expect(first.get('a')).toEqual([0, 1]);
    expect(first.get('b')).toEqual([2, 3, 4]);
    const c = { uid: 'c', namespace: 'n', pod: 'c', container: 'c', count: 2 };
    const second = assignGpus(8, [b, c], first); // a is gone
    expect(second.get('b')).toEqual([2, 3, 4]);
    expect(second.get('c')).toEqual([0, 1]);
    expect(assignGpus(2, [b], new Map()).has('b')).toBe(false); // does not fit
  });

  it('renders dcgm-exporter lines with pod labels only on assigned GPUs, in both label styles', () => {
    const samples = [
      {
        node: 'n1',
        index: 0,
        modelName: modelNameOf('NVIDIA-A100-SXM4-40GB'),
        percent: 73,
        memoryMiB: 40960,
        owner: { namespace: 'ml', pod: 'p', container: 'c' },
      },
      { node: 'n1', index: 1, modelName: 'NVIDIA A100-SXM4-40GB', percent: 0, memoryMiB: 40960 },
    ];
    const plain = renderMetrics(samples, { labelStyle: 'plain', hostnameLabel: 'Hostname' });
    expect(plain).toContain('# TYPE DCGM_FI_DEV_GPU_UTIL gauge');
    expect(plain).toMatch(
      /DCGM_FI_DEV_GPU_UTIL\{gpu="0",UUID="GPU-[0-9a-f-]+",pci_bus_id="[^"]+",device="nvidia0",modelName="NVIDIA A100-SXM4-40GB",Hostname="n1",DCGM_FI_DRIVER_VERSION="[^"]+",container="c",namespace="ml",pod="p"\} 73/,
    );
    expect(plain).toMatch(/DCGM_FI_PROF_GR_ENGINE_ACTIVE\{gpu="0".*pod="p"\} 0\.730000/);
    expect(plain).toMatch(/DCGM_FI_DEV_GPU_UTIL\{gpu="1",[^}]*DCGM_FI_DRIVER_VERSION="[^"]+"\} 0/);
    const exported = renderMetrics(samples, { labelStyle: 'exported', hostnameLabel: 'hostname' });
    expect(exported).toContain('exported_pod="p"');
    expect(exported).toContain('hostname="n1"');
    expect(exported).not.toContain(',pod="p"');
  });
});
