import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

describe('metrics', () => {
  it('publishes which build runs as aicost_build_info', async () => {
    const metrics = createMetrics([], 10, { version: '0.1.0', commit: 'cafe', nodeVersion: 'v24.1.0' });
    expect(await metrics.registry.metrics()).toContain(
      'aicost_build_info{version="0.1.0",commit="cafe",node_version="v24.1.0"} 1\n',
    );
  });
});
