/**
 * The ledger's sink on any S3-compatible object store (AWS S3, MinIO, SeaweedFS, Ceph RGW, R2...): one object
 * per key under s3://bucket/prefix. A PUT replaces a whole object at once, which is the atomicity the ledger
 * needs; the body is signed (x-amz-content-sha256), so a store never keeps a truncated upload as the object.
 */
import { createS3Client, S3Error } from './s3-client.ts';
import { checkEndpoint, parseS3Url } from './s3-settings.ts';
import { parseErrorBody, parseListPage } from './s3-xml.ts';
import type { ObjectSink } from './sink.ts';

export interface S3SinkOptions {
  /** s3://bucket/prefix */
  readonly url: string;
  /** The S3 API's base URL; AWS's regional endpoint when undefined. */
  readonly endpoint?: string | undefined;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** Deadline of one request, its body included. */
  readonly requestTimeoutMs?: number;
  /** Keys per ListObjectsV2 page (S3's limit and default is 1000); tests lower it to page through a few keys. */
  readonly listPageSize?: number;
  /** The clock requests are signed with (S3 refuses a signature more than 15 minutes off). */
  readonly now?: () => Date;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** S3's limit on a key's length, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/**
 * Keys are relative paths of non-empty segments. `.` and `..` would be folded away by a URL on the way (and by
 * a file sink), and control characters cannot travel in a listing's XML.
 */
export function checkKey(key: string, what = 'key'): void {
  const bad = (why: string) => new Error(`ledger ${what} "${key}" ${why}`);
  if (key === '') throw bad('is empty');
  // eslint-disable-next-line no-control-regex -- the control characters are what this looks for
  if (/[\u0000-\u001f\u007f]/.test(key)) throw bad('has a control character');
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw bad("has an empty, '.' or '..' segment (or starts or ends with '/')");
  }
}

export function createS3Sink(options: S3SinkOptions): ObjectSink & { close(): void } {
  const { bucket, prefix } = parseS3Url(options.url);
  const endpoint = checkEndpoint(options.endpoint ?? `https://s3.${options.region}.amazonaws.com`);
  const pageSize = options.listPageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new Error(`listPageSize must be a whole number from 1 to 1000, not ${pageSize}`);
  }
  const client = createS3Client({
    endpoint,
    region: options.region,
    credentials: {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      sessionToken: options.sessionToken,
    },
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    now: options.now ?? (() => new Date()),
  });

  const objectKey = (key: string): string => {
    checkKey(key);
    const full = prefix + key;
    if (Buffer.byteLength(full) > MAX_KEY_BYTES) {
      throw new Error(`ledger key "${full}" is longer than S3's ${MAX_KEY_BYTES} bytes`);
    }
    return full;
  };

  return {
    url: `s3://${bucket}${prefix ? `/${prefix.slice(0, -1)}` : ''}`,

    async put(key, body) {
      await client.call({ method: 'PUT', bucket, key: objectKey(key), body });
    },

    async get(key) {
      const answer = await client.call({ method: 'GET', bucket, key: objectKey(key) }, [404]);
      if (answer.status === 200) return ownBytes(answer.body);
      // A 404 for a missing bucket is a misconfiguration, not an absent object.
      const error = notFoundError(answer.body, `s3://${bucket}/${prefix}${key}`);
      if (error) throw error;
      return undefined;
    },

    async list(under) {
      if (under !== '') checkKey(under.replace(/\/$/, ''), 'prefix');
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const query: [string, string][] = [
          ['list-type', '2'],
          ['prefix', prefix + under],
          ['max-keys', String(pageSize)],
        ];
        if (token !== undefined) query.push(['continuation-token', token]);
        const answer = await client.call({ method: 'GET', bucket, query });
        const page = parseListPage(answer.body.toString('utf8'));
        for (const k of page.keys) if (k.startsWith(prefix)) keys.push(k.slice(prefix.length));
        token = page.nextToken;
      } while (token !== undefined);
      return keys.sort();
    },

    async delete(key) {
      // S3 answers 204 whether or not the object existed; some compatible stores answer 404.
      const answer = await client.call({ method: 'DELETE', bucket, key: objectKey(key) }, [404]);
      if (answer.status === 404) {
        const error = notFoundError(answer.body, `s3://${bucket}/${prefix}${key}`);
        if (error) throw error;
      }
    },

    close: () => client.close(),
  };
}

/**
 * The bytes in an array of their own: a small Buffer is a window on Node's shared 8 KB pool, and a reader that
 * takes `.buffer` (a Parquet reader may) would see its neighbours.
 */
function ownBytes(body: Buffer): Uint8Array {
  const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  return whole ? new Uint8Array(body.buffer, 0, body.byteLength) : Uint8Array.prototype.slice.call(body);
}

/** The error of a 404 that is not about the object (NoSuchBucket); undefined when the object is missing. */
function notFoundError(body: Buffer, target: string): S3Error | undefined {
  const { code, message } = parseErrorBody(body.toString('utf8'));
  if (code === '' || code === 'NoSuchKey') return undefined;
  return new S3Error(`S3 ${target}: HTTP 404 ${code}${message ? ` (${message})` : ''}`, 404, code);
}
