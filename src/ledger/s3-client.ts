/**
 * Signed requests to an S3-compatible API with path-style addressing (endpoint/bucket/key), which every
 * S3-compatible server accepts, where virtual-host style needs DNS for each bucket. Each request has a
 * deadline that covers its answer's body too; a failure becomes an S3Error naming the method, the object and
 * S3's error code, never the credentials.
 */
import type { Agent } from 'node:http';
import { isOk, keepAliveAgent, readBytes, send } from '../controller/http-request.ts';
import { encodePath, sha256Hex, signV4, uriEncode, type Credentials } from './sigv4.ts';
import { parseErrorBody } from './s3-xml.ts';

export interface S3ClientOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8333; it may carry a base path. */
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: Credentials;
  /** Deadline of one request, its answer's body included. */
  readonly requestTimeoutMs: number;
  /** The clock requests are signed with. */
  readonly now: () => Date;
}

export interface S3Call {
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly bucket: string;
  /** The object; absent for a bucket-level request (create, list). */
  readonly key?: string;
  readonly query?: readonly (readonly [string, string])[];
  readonly body?: Uint8Array;
}

export interface S3Answer {
  readonly status: number;
  readonly body: Buffer;
}

export interface S3Client {
  /** Resolves with 2xx answers; throws S3Error for any other, unless `accept` lists its status. */
  call(call: S3Call, accept?: readonly number[]): Promise<S3Answer>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** A refused or failed request: `status` 0 when no answer came (timeout, connection refused). */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  readonly status: number;
  /** S3's error code (NoSuchBucket, AccessDenied, SignatureDoesNotMatch...); '' when none. */
  readonly code: string;
  constructor(message: string, status: number, code: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.code = code;
  }
}

export function createS3Client(options: S3ClientOptions): S3Client {
  const agent: Agent = keepAliveAgent(options.endpoint.href);

  async function call(request: S3Call, accept: readonly number[] = []): Promise<S3Answer> {
    const target = `s3://${request.bucket}/${request.key ?? ''}`;
    const { url, headers } = signedRequest(options, request);
    const signal = AbortSignal.timeout(options.requestTimeoutMs);
    let status: number;
    let body: Buffer;
    try {
      const response = await send(url, {
        method: request.method,
        headers,
        agent,
        signal,
        ...(request.body ? { body: request.body } : {}),
      });
      status = response.statusCode ?? 0;
      body = await readBytes(response);
      if (isOk(response) || accept.includes(status)) return { status, body };
    } catch (error) {
      const reason = signal.aborted ? `no answer within ${options.requestTimeoutMs} ms` : String(error);
      throw new S3Error(`S3 ${request.method} ${target} failed: ${reason}`, 0, '', { cause: error });
    }
    const { code, message } = parseErrorBody(body.toString('utf8'));
    const detail = [code, message && `(${message})`].filter(Boolean).join(' ');
    throw new S3Error(`S3 ${request.method} ${target}: HTTP ${status}${detail ? ` ${detail}` : ''}`, status, code);
  }

  return { call, close: () => agent.destroy() };
}

/** The URL (endpoint/bucket/key?query) and the headers of a request, signed. */
function signedRequest(options: S3ClientOptions, request: S3Call): { url: URL; headers: Record<string, string> } {
  const basePath = options.endpoint.pathname.replace(/\/+$/, '');
  const path = basePath + encodePath(`/${request.bucket}${request.key === undefined ? '' : `/${request.key}`}`);
  const query = request.query ?? [];
  const search = query.map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
  const url = new URL(`${options.endpoint.origin}${path}${search ? `?${search}` : ''}`);
  const payloadHash = sha256Hex(request.body ?? '');
  const headers: Record<string, string> = { 'x-amz-content-sha256': payloadHash };
  if (request.body) headers['content-type'] = 'application/octet-stream';
  const signature = signV4({
    method: request.method,
    host: options.endpoint.host,
    path,
    query,
    headers,
    payloadHash,
    region: options.region,
    service: 's3',
    credentials: options.credentials,
    now: options.now(),
  });
  return { url, headers: { ...headers, ...signature } };
}
