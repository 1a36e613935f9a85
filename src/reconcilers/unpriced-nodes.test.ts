import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakePrometheus, startOperator } from '../testing/harness.ts';
import { diffUnpriced } from './unpriced-nodes.ts';

describe('diffUnpriced', () => {
  const n = (name: string, reason: string) => ({ name, reason });
  it.each([
    ['a node newly unpriced', [], [n('a', 'r1')], [n('a', 'r1')], []],
    ['the same reason again: nothing', [n('a', 'r1')], [n('a', 'r1')], [], []],
    ['another reason', [n('a', 'r1')], [n('a', 'r2')], [n('a', 'r2')], [n('a', 'r1')]],
    ['priced now, or gone', [n('a', 'r1'), n('b', 'r1')], [n('b', 'r1')], [], [n('a', 'r1')]],
    [
      'several at once',
      [n('a', 'r1'), n('b', 'r1')],
      [n('b', 'r2'), n('c', 'r1')],
      [n('b', 'r2'), n('c', 'r1')],
      [n('a', 'r1'), n('b', 'r1')],
    ],
  ])('%s', (_, before, now, report, clear) => {
    const changes = diffUnpriced(new Map(before.map((x) => [x.name, x.reason])), now);
    expect(changes.report).toEqual(report);
    expect(changes.clear).toEqual(clear);
    expect([...changes.next]).toEqual(now.map((x) => [x.name, x.reason]));
  });
});

describe('unpriced GPU nodes against an in-memory API', () => {
  const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
  const NOPRICE = 'no price for instance type x9.big and no GPU model label: add it to the pricing file';
  const B200 = 'no price for instance type x9.big nor for GPU model NVIDIA-B200: add it to the pricing file';
  function putNode(api: FakeKube, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) {
    api.put('/api/v1/nodes', {
      metadata: { name: 'gpu-9', labels: { 'node.kubernetes.io/instance-type': 'x9.big', ...labels }, annotations },
      status: { allocatable: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8' } },
    });
  }
  const events = (api: FakeKube) =>
    api.objectsUnder('/api/v1/namespaces/default/events/').map((e) => ({
      involvedObject: e.involvedObject,
      type: e.type,
      reason: e.reason,
      message: e.message,
    }));
  const event = (reason: string) => ({
    involvedObject: { apiVersion: 'v1', kind: 'Node', namespace: '', name: 'gpu-9', uid: 'gpu-9' },
    type: 'Warning',
    reason: 'Unpriced',
    message: `${reason}; the cost of its pods is unknown until it has a price`,
  });

  it('says why in one Event on the Node and in aicost_unpriced_nodes{node,reason}, once per reason', async () => {
    const api = new FakeKube();
    putNode(api);
    const clock = new FakeClock(T0);
    const op = await startOperator(api, clock, new FakePrometheus());
    const series = async () => (await op.metrics.unpricedNodes.get()).values.map((v) => [v.labels, v.value]);
    const cycle = async () => {
      await clock.advance(60_000);
      await op.accountant.runCycle();
    };
    await cycle();
    await cycle();
    expect(events(api)).toEqual([event(NOPRICE)]);
    expect(await series()).toEqual([[{ node: 'gpu-9', reason: NOPRICE }, 1]]);

    // GPU feature discovery labels the node: the reason changes, and so do the Event and the series.
    putNode(api, { 'nvidia.com/gpu.product': 'NVIDIA-B200' });
    await cycle();
    await cycle();
    expect(events(api)).toEqual([event(NOPRICE), event(B200)]);
    expect(await series()).toEqual([[{ node: 'gpu-9', reason: B200 }, 1]]);

    // Priced by annotation: the series goes; no Event says so.
    putNode(api, { 'nvidia.com/gpu.product': 'NVIDIA-B200' }, { 'aicost.dev/price-per-hour': '40' });
    await cycle();
    expect(await series()).toEqual([]);
    expect(events(api)).toHaveLength(2);
    await op.stop();
  });
});
