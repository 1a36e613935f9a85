/**
 * The ledger's retention on a real S3-compatible store (SeaweedFS): the leader deletes its own cluster's old
 * date partitions object by object (DeleteObject), and leaves the other clusters' partitions in the bucket.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotJson } from '../../src/ledger/durable.ts';
import { DAY_MS, LedgerRetention } from '../../src/ledger/retention.ts';
import { createS3Sink } from '../../src/ledger/s3-sink.ts';
import { LedgerStore } from '../../src/ledger/store.ts';
import { HOUR_MS, jobRow, nodeRow } from '../../src/testing/ledger-rows.ts';
import { startWeed, type WeedServer } from '../support/weed-server.ts';

let weed: WeedServer;

beforeAll(async () => {
  weed = await startWeed();
});

afterAll(async () => {
  await weed.stop();
});

describe('ledger retention on SeaweedFS', () => {
  it("deletes only its own cluster's partitions older than the retention, pieces included", async () => {
    const sink = createS3Sink({
      url: `s3://${weed.bucket}/retention`,
      endpoint: weed.endpoint,
      region: weed.region,
      accessKeyId: weed.accessKeyId,
      secretAccessKey: weed.secretAccessKey,
      listPageSize: 2, // several pages: the listing goes on past the first
    });
    try {
      const store = new LedgerStore(sink);
      const starts = ['2025-03-01T10:00Z', '2025-03-01T11:00Z', '2025-03-02T10:00Z', '2026-03-01T10:00Z'];
      for (const clusterId of ['prod-1', 'prod-2'])
        for (const iso of starts) {
          const start = Date.parse(iso);
          const at = { clusterId, windowStartMs: start, windowEndMs: start + HOUR_MS };
          await store.writeWindow(clusterId, start, [jobRow(at), nodeRow(at)]);
        }
      const pieceAt = Date.parse('2025-03-02T11:00Z');
      const at = { clusterId: 'prod-1', windowStartMs: pieceAt, windowEndMs: pieceAt + HOUR_MS };
      await store.writePiece('prod-1', pieceAt, 'accountant', [jobRow(at)]);
      const throughMs = Date.parse('2026-03-01T11:00Z');
      await store.writeState('prod-1', snapshotJson('prod-1', { throughMs, targets: new Map() }));

      const retention = new LedgerRetention({
        store,
        clusterId: 'prod-1',
        retentionMs: 30 * DAY_MS,
        now: () => Date.parse('2026-03-02T00:00Z'),
        log: pino({ level: 'silent' }),
      });
      expect(await retention.run()).toBe(DAY_MS);

      expect(await sink.list('cluster=prod-1/')).toEqual([
        'cluster=prod-1/date=2026-03-01/window-20260301T100000Z.parquet',
      ]);
      expect(await sink.list('cluster=prod-2/')).toHaveLength(4);
      expect(await sink.list('state/')).toEqual([
        'state/cluster=prod-1/cumulative.json',
        'state/cluster=prod-1/retention.json',
      ]);
    } finally {
      sink.close();
    }
  });
});
