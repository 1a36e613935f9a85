/**
 * The signer against AWS's published answers: the Signature Version 4 test suite (the cases that apply to S3:
 * those that normalize `.`/`..` in paths or encode them twice do not) and the worked examples of the S3
 * documentation ("Authenticating Requests: Using the Authorization Header").
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_SHA256, encodePath, sha256Hex, signV4, type SigningInput } from './sigv4.ts';

const SUITE = {
  host: 'example.amazonaws.com',
  region: 'us-east-1',
  service: 'service',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  now: new Date('2015-08-30T12:36:00Z'),
};
const TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuw' +
  'thAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcH' +
  'NVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLx' +
  'BA==';

interface Case {
  readonly name: string;
  readonly method?: string;
  readonly path?: string;
  readonly query?: readonly (readonly [string, string])[];
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly token?: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

const suite: readonly Case[] = [
  {
    name: 'get-vanilla',
    signedHeaders: 'host;x-amz-date',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'get-header-key-duplicate',
    headers: { 'My-Header1': 'value2,value2,value1' },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order',
    headers: { 'my-header1': 'value4,value1,value3,value2' },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-value-trim',
    headers: { 'my-header1': ' value1', 'my-header2': '"a   b   c"' },
    signedHeaders: 'host;my-header1;my-header2;x-amz-date',
    signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  {
    name: 'get-unreserved',
    path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signedHeaders: 'host;x-amz-date',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  {
    name: 'get-utf8',
    path: '/ሴ',
    signedHeaders: 'host;x-amz-date',
    signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    query: [
      ['Param2', 'value2'],
      ['Param1', 'value1'],
    ],
    signedHeaders: 'host;x-amz-date',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-unreserved',
    query: [
      [
        '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
        '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
      ],
    ],
    signedHeaders: 'host;x-amz-date',
    signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  },
  {
    name: 'get-vanilla-utf8-query',
    query: [['ሴ', 'bar']],
    signedHeaders: 'host;x-amz-date',
    signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    signedHeaders: 'host;x-amz-date',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'post-header-value-case',
    method: 'POST',
    headers: { 'my-header1': 'VALUE1' },
    signedHeaders: 'host;my-header1;x-amz-date',
    signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'post-vanilla-query',
    method: 'POST',
    query: [['Param1', 'value1']],
    signedHeaders: 'host;x-amz-date',
    signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
  },
  {
    name: 'post-vanilla-query-nonunreserved',
    method: 'POST',
    query: [
      ['@#$%^', ''],
      ['+', '/,?><`";:\\|][{}'],
    ],
    signedHeaders: 'host;x-amz-date',
    signature: '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e',
  },
  {
    name: 'post-x-www-form-urlencoded',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date',
    signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-sts-header-before (a session token is signed)',
    method: 'POST',
    token: TOKEN,
    signedHeaders: 'host;x-amz-date;x-amz-security-token',
    signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
  },
];

describe('signV4: the AWS Signature Version 4 test suite', () => {
  it.each(suite)('$name', (c) => {
    const input: SigningInput = {
      ...SUITE,
      credentials: { ...SUITE.credentials, sessionToken: c.token },
      method: c.method ?? 'GET',
      path: encodePath(c.path ?? '/'),
      query: c.query ?? [],
      headers: c.headers ?? {},
      payloadHash: sha256Hex(c.body ?? ''),
    };
    const headers = signV4(input);
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ` +
        `SignedHeaders=${c.signedHeaders}, Signature=${c.signature}`,
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers['x-amz-security-token']).toBe(c.token);
  });
});

const S3_DOCS = {
  host: 'examplebucket.s3.amazonaws.com',
  region: 'us-east-1',
  service: 's3',
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  now: new Date('2013-05-24T00:00:00Z'),
};
const WELCOME = 'Welcome to Amazon S3.';

const s3Examples: readonly Case[] = [
  {
    name: 'GET Object (with a Range header)',
    path: '/test.txt',
    headers: { range: 'bytes=0-9' },
    signedHeaders: 'host;range;x-amz-content-sha256;x-amz-date',
    signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  },
  {
    name: 'PUT Object (a $ in the key, a signed body)',
    method: 'PUT',
    path: '/test$file.text',
    headers: { date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
    body: WELCOME,
    signedHeaders: 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
    signature: '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
  },
  {
    name: 'GET Bucket Lifecycle (a parameter without a value)',
    query: [['lifecycle', '']],
    signedHeaders: 'host;x-amz-content-sha256;x-amz-date',
    signature: 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
  },
  {
    name: 'GET Bucket (List Objects)',
    query: [
      ['prefix', 'J'],
      ['max-keys', '2'],
    ],
    signedHeaders: 'host;x-amz-content-sha256;x-amz-date',
    signature: '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
  },
];

describe('signV4: the examples of the S3 documentation', () => {
  it.each(s3Examples)('$name', (c) => {
    const payloadHash = c.body === undefined ? EMPTY_SHA256 : sha256Hex(c.body);
    const headers = signV4({
      ...S3_DOCS,
      method: c.method ?? 'GET',
      path: encodePath(c.path ?? '/'),
      query: c.query ?? [],
      headers: { ...c.headers, 'x-amz-content-sha256': payloadHash },
      payloadHash,
    });
    expect(headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ` +
        `SignedHeaders=${c.signedHeaders}, Signature=${c.signature}`,
    );
  });

  it('hashes the documented body to the documented x-amz-content-sha256', () => {
    expect(sha256Hex(WELCOME)).toBe('44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072');
    expect(sha256Hex(new Uint8Array())).toBe(EMPTY_SHA256);
  });
});

describe('encodePath', () => {
  it.each([
    ['/bucket/cluster=a/date=2026-11-01/x.parquet', '/bucket/cluster%3Da/date%3D2026-11-01/x.parquet'],
    ["/b/a b+c!'()*~", '/b/a%20b%2Bc%21%27%28%29%2A~'],
    ['/b/ü/€', '/b/%C3%BC/%E2%82%AC'],
    ['/b/%2F', '/b/%252F'],
  ])('%s -> %s', (path, encoded) => {
    expect(encodePath(path)).toBe(encoded);
  });
});
