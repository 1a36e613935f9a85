/**
 * The webhook's server against hostile callers, over TLS on localhost (#19): what a caller can make it hold is
 * bounded in bytes, connections and time, every refusal is counted, and a normal review still gets through.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { postReview, RawClient, serveWebhook, type TestWebhook } from '../testing/webhook-tls.ts';
import { SMALL_BODY_BYTES } from './webhook-body.ts';
import type { WebhookLimits } from './webhook-server.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const review = JSON.stringify({ request: { uid: 'u-1' } });
const answer = (_path: string, body: unknown) => ({
  response: { uid: (body as { request?: { uid?: string } }).request?.uid, allowed: true },
});

let hook: TestWebhook | undefined;
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  await hook?.server.close();
  hook = undefined;
});

async function serve(limits: Partial<WebhookLimits> = {}, handle = answer): Promise<TestWebhook> {
  hook = await serveWebhook(handle, { limits });
  return hook;
}

/** Writes one byte every `everyMs` until the connection closes: a slow-loris caller. */
function trickle(client: RawClient, everyMs: number, chunked = false): void {
  timers.push(setInterval(() => client.writeBody(Buffer.from('x'), chunked), everyMs));
}

describe('webhook server limits', () => {
  it('answers a review, and answers 500 when the handler throws (the failurePolicy decides)', async () => {
    const { server, cert } = await serve({}, (path, body) => {
      if ((body as { request?: { uid?: string } }).request?.uid === 'boom') throw new Error('boom');
      return answer(path, body);
    });
    const ok = await postReview(server.port, cert, review);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ response: { uid: 'u-1', allowed: true } });
    expect((await postReview(server.port, cert, JSON.stringify({ request: { uid: 'boom' } }))).status).toBe(500);
  });

  it('cuts a slow-loris body, slow headers and a stalled TLS handshake after the read timeout', async () => {
    const { server, cert, refusals } = await serve({ readTimeoutMs: 300 });
    const body = await RawClient.open(server.port, cert);
    body.writeHeaders(1000);
    trickle(body, 50);
    const headers = await RawClient.open(server.port, cert);
    headers.socket.write('POST /mutate-v1-pod HTTP/1.1\r\n');
    timers.push(setInterval(() => headers.socket.write('X-A: b\r\n'), 50));
    const handshake = connect(server.port, '127.0.0.1'); // TCP only: the TLS handshake never starts
    const handshakeClosed = new Promise<void>((resolve) => handshake.on('close', () => resolve()));
    handshake.on('error', () => undefined);
    for (const outcome of await Promise.all([body.outcome, headers.outcome])) {
      // Cut between the timeout and the next check of Node's timer (a quarter of it), with slack for a busy CPU.
      expect(outcome.closedAtMs).toBeGreaterThanOrEqual(250);
      expect(outcome.closedAtMs).toBeLessThan(2000);
      expect(outcome.status).toBe(0);
    }
    await handshakeClosed;
    expect(refusals.sort()).toEqual(['read_timeout', 'read_timeout', 'tls']);
    await vi.waitFor(() => expect(server.inFlightBytes).toBe(0));
  });

  it('refuses a 4 MiB body with 413 from its Content-Length, without reading it', async () => {
    const { server, cert, refusals } = await serve();
    const client = await RawClient.open(server.port, cert);
    client.writeHeaders(4 * MiB);
    client.writeBody(Buffer.alloc(KiB, 0x20)); // the rest is never sent: the answer must not wait for it
    const outcome = await client.outcome;
    expect(outcome.status).toBe(413);
    expect(refusals).toEqual(['body_too_large']);
    expect(server.inFlightBytes).toBe(0);
  });

  it('aborts a streamed (chunked) body as soon as it passes the size cap', async () => {
    const { server, cert, refusals } = await serve({ maxBodyBytes: 3 * MiB });
    const client = await RawClient.open(server.port, cert);
    client.writeHeaders();
    let sent = 0;
    // 3.5 MiB, then the end of the chunked body: without a cap it would be read whole and answered 400.
    for (; sent < 3.5 * MiB; sent += 64 * KiB) client.writeBody(Buffer.alloc(64 * KiB, 0x20), true);
    client.socket.write('0\r\n\r\n');
    const outcome = await client.outcome;
    expect(outcome.status).toBe(413);
    expect(refusals).toEqual(['body_too_large']);
    expect(server.inFlightBytes).toBe(0);
  });

  it('refuses bodies past the in-flight cap with 503 while a normal review succeeds; cut stalls free it', async () => {
    const limits = { maxInFlightBytes: MiB, maxBodyBytes: 600 * KiB, readTimeoutMs: 1000 };
    const { server, cert, refusals } = await serve(limits);
    // Two callers stall with 576 KiB each: beyond each one's small allowance, they fill the cap exactly.
    const stalled = await Promise.all([RawClient.open(server.port, cert), RawClient.open(server.port, cert)]);
    for (const c of stalled) {
      c.writeHeaders(600 * KiB);
      c.writeBody(Buffer.alloc(SMALL_BODY_BYTES + 512 * KiB, 0x20));
    }
    await vi.waitFor(() => expect(server.inFlightBytes).toBe(MiB));
    // Declared too large for what is left: refused before a byte is read.
    const declared = await RawClient.open(server.port, cert);
    declared.writeHeaders(500 * KiB);
    expect((await declared.outcome).status).toBe(503);
    // Streamed: refused when its bytes pass its allowance and there is no room left.
    const streamed = await RawClient.open(server.port, cert);
    streamed.writeHeaders();
    for (let i = 0; i < 3; i++) streamed.writeBody(Buffer.alloc(32 * KiB, 0x20), true);
    const refusedStream = await streamed.outcome;
    expect(refusedStream.status).toBe(503);
    expect(refusedStream.body).toContain('retry');
    // A review of a few kilobytes fits in its allowance: the stalled bodies cannot crowd it out.
    expect((await postReview(server.port, cert, review)).status).toBe(200);
    expect(server.inFlightBytes).toBe(MiB);
    // The stalled two are cut at the read timeout, and what they held is free again.
    for (const outcome of await Promise.all(stalled.map((c) => c.outcome))) expect(outcome.status).toBe(0);
    await vi.waitFor(() => expect(server.inFlightBytes).toBe(0));
    expect(refusals.sort()).toEqual(['in_flight_bytes', 'in_flight_bytes', 'read_timeout', 'read_timeout']);
  });

  it('drops connections over the cap as they arrive, until the read timeout cuts the stalled ones', async () => {
    const { server, cert, refusals } = await serve({ maxConnections: 3, readTimeoutMs: 600 });
    const stalled = await Promise.all([1, 2, 3].map(() => RawClient.open(server.port, cert)));
    for (const c of stalled) c.writeHeaders(100);
    // A fourth connection, a review included, is closed at once: the API server sees a failed call.
    await expect(RawClient.open(server.port, cert)).rejects.toThrow();
    await expect(postReview(server.port, cert, review)).rejects.toThrow();
    expect(refusals.filter((r) => r === 'connections')).toHaveLength(2);
    await Promise.all(stalled.map((c) => c.outcome));
    expect((await postReview(server.port, cert, review)).status).toBe(200);
  });

  it('keeps an idle keep-alive connection for the idle timeout, longer than the read timeout', async () => {
    const { server, cert } = await serve({ readTimeoutMs: 200, idleTimeoutMs: 1000 });
    const client = await RawClient.open(server.port, cert);
    const request = `POST /mutate-v1-pod HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${review.length}\r\n\r\n${review}`;
    client.socket.write(request);
    await new Promise((r) => setTimeout(r, 500));
    client.socket.write(request);
    const outcome = await client.outcome;
    // Two answers on one connection, then closed about the idle timeout after the second.
    expect(outcome.statuses).toEqual([200, 200]);
    expect(outcome.closedAtMs).toBeGreaterThanOrEqual(1400);
    expect(outcome.closedAtMs).toBeLessThan(4000);
  });
});
