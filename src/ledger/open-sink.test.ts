import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSink } from './open-sink.ts';

describe('openSink', () => {
  it('opens a directory, creating it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aicost-open-sink-'));
    try {
      const sink = await openSink(join(root, 'a', 'ledger'));
      expect(sink.url).toMatch(/^file:\/\/.*\/a\/ledger$/);
      expect((await stat(join(root, 'a', 'ledger'))).isDirectory()).toBe(true);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('says the S3 sink is not here yet, and refuses other URLs', async () => {
    await expect(openSink('s3://bucket/prefix')).rejects.toThrow(/needs its AWS_\* settings/);
    const s3 = {
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      accessKeyId: 'k',
      secretAccessKey: 's',
      sessionToken: undefined,
    };
    expect((await openSink('s3://bucket/prefix', s3)).url).toBe('s3://bucket/prefix');
    await expect(openSink('gs://bucket')).rejects.toThrow(/not a directory or an s3:\/\/ URL/);
  });
});
