/**
 * The S3 sink against a real S3-compatible server (SeaweedFS, started by test/support/weed-server.ts with
 * signatures required): each test uses keys of its own under one bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Error } from '../../src/ledger/s3-client.ts';
import { createS3Sink, type S3SinkOptions } from '../../src/ledger/s3-sink.ts';
import { startWeed, type WeedServer } from '../support/weed-server.ts';

let weed: WeedServer;
const sinks: { close(): void }[] = [];

beforeAll(async () => {
  weed = await startWeed();
});

afterAll(async () => {
  for (const sink of sinks) sink.close();
  await weed.stop();
});

function sink(prefix: string, options: Partial<S3SinkOptions> = {}) {
  const created = createS3Sink({
    url: `s3://${weed.bucket}/${prefix}`,
    endpoint: weed.endpoint,
    region: weed.region,
    accessKeyId: weed.accessKeyId,
    secretAccessKey: weed.secretAccessKey,
    ...options,
  });
  sinks.push(created);
  return created;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array | undefined) => (body === undefined ? undefined : new TextDecoder().decode(body));

describe('S3 sink on SeaweedFS', () => {
  it('puts, gets, replaces and deletes an object', async () => {
    const s = sink('crud');
    expect(s.url).toBe(`s3://${weed.bucket}/crud`);
    const key = 'cluster=c1/date=2026-11-09/part-0.parquet';
    expect(await s.get(key)).toBeUndefined();

    await s.put(key, bytes('first'));
    expect(text(await s.get(key))).toBe('first');

    await s.put(key, bytes('second, longer than the first'));
    expect(text(await s.get(key))).toBe('second, longer than the first');

    await s.delete(key);
    expect(await s.get(key)).toBeUndefined();
    await s.delete(key); // absent: no error
  });

  it('keeps binary bodies byte for byte, the empty one included', async () => {
    const s = sink('binary');
    const body = new Uint8Array(256 * 1024).map((_, i) => (i * 7919) % 256);
    await s.put('blob', body);
    expect(await s.get('blob')).toEqual(body);
    await s.put('empty', new Uint8Array());
    expect(await s.get('empty')).toEqual(new Uint8Array());
    // A small body is not a window on a shared buffer: its ArrayBuffer holds exactly its bytes.
    await s.put('small', bytes('tiny'));
    const small = await s.get('small');
    expect(small?.buffer.byteLength).toBe(4);
    expect(small?.byteOffset).toBe(0);
  });

  it('lets readers see the old or the new object while it is replaced, never a part', async () => {
    const s = sink('atomic');
    const size = 2 * 1024 * 1024;
    const versions = [1, 2, 3, 4].map((v) => new Uint8Array(size).fill(v));
    await s.put('big', new Uint8Array(size).fill(0));
    const reads: Promise<Uint8Array | undefined>[] = [];
    const writes = (async () => {
      for (const body of versions) await s.put('big', body);
    })();
    for (let i = 0; i < 12; i++) reads.push(s.get('big'));
    await writes;
    for (const body of await Promise.all(reads)) {
      expect(body?.length).toBe(size);
      const first = body?.[0] ?? -1;
      expect(body?.every((b) => b === first)).toBe(true);
    }
    expect(await s.get('big')).toEqual(versions[3]);
  });

  it('lists every key under a prefix, sorted, through many pages', async () => {
    const s = sink('paging', { listPageSize: 2 });
    const keys = ['b/2', 'a/1', 'b/1', 'a/2/x', 'c', 'a/3'];
    await Promise.all(keys.map((k) => s.put(k, bytes(k))));
    expect(await s.list('')).toEqual(['a/1', 'a/2/x', 'a/3', 'b/1', 'b/2', 'c']);
    expect(await s.list('a/')).toEqual(['a/1', 'a/2/x', 'a/3']);
    expect(await s.list('b/')).toEqual(['b/1', 'b/2']);
    expect(await s.list('none/')).toEqual([]);
    // Keys of a sibling prefix stay out.
    await sink('paging-other').put('a/1', bytes('x'));
    expect(await s.list('')).toHaveLength(keys.length);
  });

  it('pages through 30 keys 7 at a time, and reads them in one page at the default size', async () => {
    const s = sink('many', { listPageSize: 7 });
    const keys = Array.from({ length: 30 }, (_, i) => `w/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => s.put(k, bytes(k))));
    expect(await s.list('w/')).toEqual(keys);
    expect(await sink('many').list('w/')).toEqual(keys);
  });

  it('stores keys with characters that URLs, signatures and XML treat specially', async () => {
    const s = sink('special chars', { listPageSize: 3 });
    const keys = [
      'team=ml & ops/a+b=c.parquet',
      'quote\'s "double" <angle>/x',
      'space here/%41 percent/#hash?query',
      'unicode/ü € 漢字 😀',
      "sub-delims/!$&'()*+,;=:@",
      'tilde~/under_score/dash-dot.',
    ];
    for (const key of keys) await s.put(key, bytes(key));
    for (const key of keys) expect(text(await s.get(key))).toBe(key);
    expect(await s.list('')).toEqual([...keys].sort());
    for (const key of keys) await s.delete(key);
    expect(await s.list('')).toEqual([]);
  });

  it('refuses keys it cannot store faithfully', async () => {
    const s = sink('refused');
    for (const key of ['', '/abs', 'a//b', 'a/./b', '../up', 'dir/', 'tab\there']) {
      await expect(s.put(key, bytes('x')), key).rejects.toThrow(/ledger key/);
    }
  });

  it('refuses a wrong secret with the status and S3 error code, without printing the secret', async () => {
    const wrong = 'not-the-secret-0123456789';
    const s = sink('auth', { secretAccessKey: wrong });
    const error: unknown = await s.put('k', bytes('x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3Error);
    const s3Error = error as S3Error;
    expect(s3Error.status).toBe(403);
    expect(s3Error.code).toBe('SignatureDoesNotMatch');
    expect(s3Error.message).toContain(`S3 PUT s3://${weed.bucket}/auth/k: HTTP 403 SignatureDoesNotMatch`);
    expect(s3Error.message).not.toContain(wrong);
    expect(s3Error.message).not.toContain(weed.secretAccessKey);
    await expect(s.get('k')).rejects.toThrow(/HTTP 403 SignatureDoesNotMatch/);
    await expect(s.list('')).rejects.toThrow(/HTTP 403/);
  });

  it('refuses an unknown access key', async () => {
    const s = sink('auth', { accessKeyId: 'AKNOBODY' });
    await expect(s.get('k')).rejects.toThrow(/HTTP 403 InvalidAccessKeyId/);
  });

  it('tells a missing bucket from a missing object', async () => {
    const s = createS3Sink({
      url: 's3://no-such-bucket/p',
      endpoint: weed.endpoint,
      region: weed.region,
      accessKeyId: weed.accessKeyId,
      secretAccessKey: weed.secretAccessKey,
    });
    sinks.push(s);
    await expect(s.get('k')).rejects.toThrow(/HTTP 404 NoSuchBucket/);
    await expect(s.list('')).rejects.toThrow(/HTTP 404 NoSuchBucket/);
  });

  it('gives up on a server that does not answer, within the deadline', async () => {
    const { createServer } = await import('node:net');
    // Accepts connections and never answers: a hung proxy.
    const silent = createServer(() => undefined);
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const address = silent.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    const s = sink('timeout', { endpoint: `http://127.0.0.1:${address.port}`, requestTimeoutMs: 300 });
    const started = Date.now();
    await expect(s.get('k')).rejects.toThrow(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
    silent.close();
  });
});
