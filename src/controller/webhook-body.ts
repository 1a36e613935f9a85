/**
 * Reading an admission review's body under two caps, so that what a client sends cannot grow the process:
 * a size per request (refused with 413 from its Content-Length before a byte of it is read, or as soon as the
 * streamed bytes pass it) and the bytes of all bodies being read at once (refused with 503, Retry-After 1).
 * A refusal closes the connection: the rest of the body is never read. The API server sends a review in one
 * write, so a well-behaved caller is never near either cap; a stalled or oversized one is.
 *
 * The first SMALL_BODY_BYTES of every body are outside the shared cap: large bodies that stall cannot crowd
 * out the ordinary reviews of a few kilobytes, and those bytes are bounded by the connection cap instead
 * (256 connections x 64 KiB = 16 MiB by default).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What every body may hold outside the in-flight cap: far more than a pod's review usually is. */
export const SMALL_BODY_BYTES = 64 * 1024;

/** The bytes of a body of `bytes` that count against the in-flight cap. */
const counted = (bytes: number): number => Math.max(0, bytes - SMALL_BODY_BYTES);

/** Why a request or connection was refused; the label of aicost_webhook_refused_total. */
export type Refusal = 'body_too_large' | 'in_flight_bytes' | 'read_timeout' | 'connections' | 'tls' | 'bad_request';

/** The bytes held by bodies being read, all requests together (beyond each one's small allowance), against a cap. */
export class InFlightBytes {
  private used = 0;
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get bytes(): number {
    return this.used;
  }

  fits(bytes: number): boolean {
    return this.used + bytes <= this.max;
  }

  /** Takes `bytes` when they fit under the cap; false (and nothing taken) when they do not. */
  take(bytes: number): boolean {
    if (!this.fits(bytes)) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}

export interface BodyCaps {
  readonly maxBodyBytes: number;
  readonly inFlight: InFlightBytes;
}

const MESSAGES: Readonly<Record<'body_too_large' | 'in_flight_bytes', string>> = {
  body_too_large: 'the body is larger than an admission review can be\n',
  in_flight_bytes: 'too many bytes of other requests are being read; retry\n',
};

/** The declared Content-Length, or undefined for a streamed (chunked) body. */
function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}

/**
 * Reads the body of `req` and hands it to `onBody` once complete; or answers `res` with a refusal (and says
 * which to `onRefused`) and never calls `onBody`. The bytes held count in `caps.inFlight` until the body is
 * handed over, refused, or its connection closes (a client that went away, or one cut by the read deadline).
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  caps: BodyCaps,
  onRefused: (reason: Refusal) => void,
  onBody: (body: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  let held = 0;
  let done = false;
  const release = () => {
    caps.inFlight.release(counted(held));
    held = 0;
    chunks.length = 0;
  };
  const refuse = (reason: 'body_too_large' | 'in_flight_bytes') => {
    done = true;
    release();
    onRefused(reason);
    const status = reason === 'body_too_large' ? 413 : 503;
    // Connection: close makes Node close the socket once the answer is out, without reading the rest.
    const headers = {
      connection: 'close',
      'content-type': 'text/plain',
      ...(status === 503 && { 'retry-after': '1' }),
    };
    res.writeHead(status, headers).end(MESSAGES[reason]);
  };
  const declared = declaredLength(req);
  if (declared !== undefined && declared > caps.maxBodyBytes) return refuse('body_too_large');
  if (declared !== undefined && !caps.inFlight.fits(counted(declared))) return refuse('in_flight_bytes');
  req.on('data', (chunk: Buffer) => {
    if (done) return;
    if (held + chunk.length > caps.maxBodyBytes) return refuse('body_too_large');
    if (!caps.inFlight.take(counted(held + chunk.length) - counted(held))) return refuse('in_flight_bytes');
    held += chunk.length;
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (done) return;
    done = true;
    const body = Buffer.concat(chunks, held);
    release();
    onBody(body);
  });
  req.on('close', () => {
    if (done) return;
    done = true;
    release();
  });
}
