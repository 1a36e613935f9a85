import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localDirectory, openSink } from './open-sink.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aicost-open-sink-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openSink', () => {
  it('opens a directory, creating it, and knows where it is', async () => {
    const sink = await openSink(join(dir, 'ledger'));
    expect(sink.url).toBe(pathToFileURL(join(dir, 'ledger')).href);
    expect(localDirectory(sink)).toBe(join(dir, 'ledger'));
    await sink.put('a/b', new Uint8Array([1]));
    const again = await openSink(pathToFileURL(join(dir, 'ledger')).href);
    expect(await again.get('a/b')).toEqual(Buffer.from([1]));
  });

  it.each([
    ['s3://bucket/prefix', '--ledger s3://bucket/prefix: an s3:// ledger needs its AWS_* settings'],
    ['gs://bucket', 'gs://bucket: a ledger is a directory or an s3://bucket/prefix URL, not gs://'],
    ['', 'the ledger location is empty: give a directory or an s3:// URL'],
  ])('%j is refused clearly', async (location, message) => {
    await expect(openSink(location)).rejects.toThrow(message);
  });

  it('opens an s3:// ledger with its settings', async () => {
    const s3 = {
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      accessKeyId: 'k',
      secretAccessKey: 's',
      sessionToken: undefined,
    };
    expect((await openSink('s3://bucket/prefix', s3)).url).toBe('s3://bucket/prefix');
  });
});
