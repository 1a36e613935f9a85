/** The sink's checks that need no server; test/s3/s3-sink.test.ts runs it against SeaweedFS. */
import { describe, expect, it } from 'vitest';
import { checkKey, createS3Sink } from './s3-sink.ts';

describe('checkKey', () => {
  it.each(['a', 'cluster=c1/date=2026-11-09/part-0.parquet', 'a b/ü/€', "!$&'()*+,;=:@", 'x.', '.hidden/y'])(
    'takes %j',
    (key) => expect(() => checkKey(key)).not.toThrow(),
  );

  it.each([
    ['', 'is empty'],
    ['/abs', 'segment'],
    ['dir/', 'segment'],
    ['a//b', 'segment'],
    ['a/./b', 'segment'],
    ['../up', 'segment'],
    ['tab\there', 'control character'],
    ['nul\u0000', 'control character'],
  ])('refuses %j', (key, message) => expect(() => checkKey(key)).toThrow(message));
});

describe('createS3Sink', () => {
  const base = { region: 'us-east-1', accessKeyId: 'AKID', secretAccessKey: 'sekrit' };

  it('names itself by bucket and prefix, and defaults to AWS', () => {
    const sinks = [
      createS3Sink({ ...base, url: 's3://ledger/aicost/' }),
      createS3Sink({ ...base, url: 's3://ledger', endpoint: 'http://127.0.0.1:8333' }),
    ];
    expect(sinks.map((s) => s.url)).toEqual(['s3://ledger/aicost', 's3://ledger']);
    for (const s of sinks) s.close();
  });

  it('refuses a bad URL, endpoint or page size before any request', () => {
    expect(() => createS3Sink({ ...base, url: '/tmp/ledger' })).toThrow('not an s3://bucket/prefix URL');
    expect(() => createS3Sink({ ...base, url: 's3://ledger', endpoint: 'ftp://h' })).toThrow('http:// or https://');
    expect(() => createS3Sink({ ...base, url: 's3://ledger', listPageSize: 0 })).toThrow('listPageSize');
  });

  it('refuses a key longer than S3 allows', async () => {
    const s = createS3Sink({ ...base, url: 's3://ledger/p', endpoint: 'http://127.0.0.1:9' });
    await expect(s.put('k'.repeat(1023), new Uint8Array())).rejects.toThrow("longer than S3's 1024 bytes");
    s.close();
  });
});
