/**
 * AWS Signature Version 4, written against node:crypto rather than taken from a package: it is some seventy
 * lines, the AWS SDK's signer drags its core and tslib along, and the small signers (aws4, aws4fetch) are
 * built around other request shapes (Node's `http.request` options, WebCrypto and fetch). The published test
 * vectors in sigv4.test.ts check it step by step.
 *
 * S3 flavour: the caller gives the path already encoded once (S3 does not encode it twice, nor normalize
 * `.` and `..`), and the payload hash it also sends as x-amz-content-sha256.
 */
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials' token: sent as x-amz-security-token and signed. */
  readonly sessionToken?: string | undefined;
}

export interface SigningInput {
  readonly method: string;
  /** Host header value: host, with the port when not the scheme's default. */
  readonly host: string;
  /** The canonical URI: already percent-encoded (encodePath). */
  readonly path: string;
  /** Query parameters, not encoded. */
  readonly query: readonly (readonly [string, string])[];
  /** Headers to sign besides host, x-amz-date and x-amz-security-token. */
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or 'UNSIGNED-PAYLOAD'. */
  readonly payloadHash: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: Credentials;
  readonly now: Date;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding of one name, value or path segment: everything but A-Z a-z 0-9 - _ . ~ */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An object key as a path: each segment encoded, the slashes kept. */
export function encodePath(path: string): string {
  return path.split('/').map(uriEncode).join('/');
}

/** 2015-08-30T12:36:00.000Z -> 20150830T123600Z */
const amzDate = (now: Date): string =>
  now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** The headers to add to the request: authorization, x-amz-date and, with a session token, x-amz-security-token. */
export function signV4(input: SigningInput): Record<string, string> {
  const date = amzDate(input.now);
  const day = date.slice(0, 8);
  const added: Record<string, string> = { 'x-amz-date': date };
  if (input.credentials.sessionToken) added['x-amz-security-token'] = input.credentials.sessionToken;

  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries({ ...input.headers, host: input.host, ...added })) {
    headers.set(name.toLowerCase(), value.trim().replace(/ +/g, ' '));
  }
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');
  const query = input.query
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalRequest = [
    input.method,
    input.path,
    query,
    ...names.map((name) => `${name}:${headers.get(name) ?? ''}`),
    '',
    signedHeaders,
    input.payloadHash,
  ].join('\n');

  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${input.credentials.secretAccessKey}`, day);
  for (const part of [input.region, input.service, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');

  return {
    ...added,
    authorization:
      `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
