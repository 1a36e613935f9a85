/**
 * The accountant's durable ledger on a real S3-compatible store (SeaweedFS): the same run, with a restart in
 * the middle, writes the same rows to a bucket as to memory, and reads them back after the restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/controller/clock.ts';
import type { LedgerRow } from '../../src/ledger/row.ts';
import { createS3Sink } from '../../src/ledger/s3-sink.ts';
import type { ObjectSink } from '../../src/ledger/sink.ts';
import { FakeKube } from '../../src/testing/fake-kube.ts';
import { startOperator } from '../../src/testing/harness.ts';
import { allRows, HOUR_MS, prometheus, seed, T0 } from '../../src/testing/ledger-world.ts';
import { MemorySink } from '../../src/testing/memory-sink.ts';
import { startWeed, type WeedServer } from '../support/weed-server.ts';

let weed: WeedServer;

beforeAll(async () => {
  weed = await startWeed();
});

afterAll(async () => {
  await weed.stop();
});

/** 130 minutes of minute cycles on `sink`, stopping the operator at 70 and starting a new one on the same sink. */
async function run(sink: ObjectSink): Promise<LedgerRow[]> {
  const api = new FakeKube();
  seed(api);
  const clock = new FakeClock(T0 + 25_000);
  for (const untilMs of [T0 + 70 * 60_000, T0 + 130 * 60_000]) {
    const op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink });
    while (clock.now() + 60_000 <= untilMs) {
      await clock.advance(59_000);
      await op.cycle();
    }
    await op.stop();
  }
  return allRows(sink);
}

const byKey = (rows: readonly LedgerRow[]) =>
  [...rows].sort((a, b) =>
    `${a.windowStartMs}/${a.workloadKind}/${a.workloadName}` < `${b.windowStartMs}/${b.workloadKind}/${b.workloadName}`
      ? -1
      : 1,
  );

describe('the durable ledger on SeaweedFS', () => {
  it('holds the same rows as the same run in memory, across a restart', async () => {
    const s3 = createS3Sink({
      url: `s3://${weed.bucket}/ledger`,
      endpoint: weed.endpoint,
      region: weed.region,
      accessKeyId: weed.accessKeyId,
      secretAccessKey: weed.secretAccessKey,
    });
    try {
      const [onS3, inMemory] = [await run(s3), await run(new MemorySink())];
      expect(onS3.length).toBeGreaterThan(0);
      expect(new Set(onS3.map((r) => r.windowStartMs))).toEqual(new Set([T0, T0 + HOUR_MS, T0 + 2 * HOUR_MS]));
      expect(byKey(onS3)).toEqual(byKey(inMemory));
      expect(await s3.list('cluster=test-cluster/')).toEqual(
        expect.arrayContaining([expect.stringMatching(/^cluster=test-cluster\/date=2026-11-10\/window-.*\.parquet$/)]),
      );
    } finally {
      s3.close();
    }
  });
});
