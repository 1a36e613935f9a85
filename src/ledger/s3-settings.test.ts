import { describe, expect, it } from 'vitest';
import { parseS3Url, s3SettingsFromEnv } from './s3-settings.ts';

const KEYS = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'sekrit' };

describe('s3SettingsFromEnv', () => {
  it.each([
    ['keys only: AWS endpoint, us-east-1', KEYS, { endpoint: undefined, region: 'us-east-1', sessionToken: undefined }],
    [
      'AWS_ENDPOINT_URL_S3 beats AWS_ENDPOINT_URL',
      { ...KEYS, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:8333', AWS_ENDPOINT_URL: 'http://other:9000' },
      { endpoint: 'http://127.0.0.1:8333' },
    ],
    [
      'AWS_ENDPOINT_URL alone',
      { ...KEYS, AWS_ENDPOINT_URL: 'https://minio.example' },
      { endpoint: 'https://minio.example' },
    ],
    [
      'a blank AWS_ENDPOINT_URL_S3 falls through',
      { ...KEYS, AWS_ENDPOINT_URL_S3: ' ', AWS_ENDPOINT_URL: 'http://b:1' },
      { endpoint: 'http://b:1' },
    ],
    [
      'AWS_REGION beats AWS_DEFAULT_REGION',
      { ...KEYS, AWS_REGION: 'eu-west-3', AWS_DEFAULT_REGION: 'us-west-2' },
      { region: 'eu-west-3' },
    ],
    ['AWS_DEFAULT_REGION alone', { ...KEYS, AWS_DEFAULT_REGION: 'us-west-2' }, { region: 'us-west-2' }],
    ['a session token', { ...KEYS, AWS_SESSION_TOKEN: 'tok' }, { sessionToken: 'tok' }],
    [
      'values are trimmed (a Secret file often ends in a newline)',
      { AWS_ACCESS_KEY_ID: ' AKID\n', AWS_SECRET_ACCESS_KEY: 'sekrit\n' },
      { accessKeyId: 'AKID', secretAccessKey: 'sekrit' },
    ],
  ])('%s', (_name, env, expected) => {
    expect(s3SettingsFromEnv(env)).toMatchObject({ accessKeyId: 'AKID', secretAccessKey: 'sekrit', ...expected });
  });

  it.each([
    ['no credentials', {}, 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set'],
    ['no secret', { AWS_ACCESS_KEY_ID: 'AKID' }, 'AWS_SECRET_ACCESS_KEY not set'],
    ['no key id', { AWS_SECRET_ACCESS_KEY: 'sekrit' }, 'AWS_ACCESS_KEY_ID not set'],
    ['an endpoint that is not a URL', { ...KEYS, AWS_ENDPOINT_URL: 'localhost:8333' }, 'http:// or https://'],
    ['an endpoint with a query', { ...KEYS, AWS_ENDPOINT_URL_S3: 'http://h/?x=1' }, 'must not carry a query'],
  ])('refuses %s', (_name, env, message) => {
    expect(() => s3SettingsFromEnv(env)).toThrow(message);
  });

  it('never quotes the secret in an error', () => {
    const env = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: 'do-not-print-me' };
    expect(() => s3SettingsFromEnv(env)).toThrow(/^(?!.*do-not-print-me)/);
  });
});

describe('parseS3Url', () => {
  it.each([
    ['s3://ledger', { bucket: 'ledger', prefix: '' }],
    ['s3://ledger/', { bucket: 'ledger', prefix: '' }],
    ['s3://ledger/aicost', { bucket: 'ledger', prefix: 'aicost/' }],
    ['s3://my.bucket-1/a/b/', { bucket: 'my.bucket-1', prefix: 'a/b/' }],
    ['s3://ledger//a//b', { bucket: 'ledger', prefix: 'a/b/' }],
  ])('%s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it.each([
    ['file:///tmp/x', 'not an s3://bucket/prefix URL'],
    ['s3://', 'not an s3://bucket/prefix URL'],
    ['s3://Upper', 'not a valid bucket name'],
    ['s3://ab', 'not a valid bucket name'],
    ['s3://b_c', 'not a valid bucket name'],
    ['s3://ledger/a/../b', 'has a . or .. segment'],
    ['s3://ledger/a?versionId=1', 'not an s3://bucket/prefix URL'],
  ])('refuses %s', (url, message) => {
    expect(() => parseS3Url(url)).toThrow(message);
  });
});
