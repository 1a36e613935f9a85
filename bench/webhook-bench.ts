/**
 * npm run bench:webhook: the spot admission webhook over TLS, with 50 spot policies in the cache. Reviews are
 * answered from memory: no API call is made. Three modes:
 *
 * latency (the default): answer time of BENCH_REVIEWS (2000) reviews on one keep-alive connection, as the API
 * server calls it, with BENCH_GPU_NODES (1000) GPU nodes to price the pod on.
 *
 * stall (`npm run bench:webhook -- stall`): the RSS of the webhook's process (a child running
 * webhook-bench-server.ts under the image's heap flags) while N callers each send most of a large body and
 * stall, and whether a normal review gets through meanwhile. Per variant and N, a fresh process:
 *   length   Content-Length of BENCH_STALL_BYTES + 1, then BENCH_STALL_BYTES (4 MiB) of body, then nothing
 *   chunked  the same bytes as a chunked body, never ended
 *   under    2 MiB + 1 declared and 2 MiB sent: under the size cap, so the in-flight cap is what holds
 *   BENCH_STALLED (40,90), BENCH_STALL_VARIANTS (length,chunked,under), BENCH_STALL_HOLD_MS (5000: longer than
 *   the read timeout), BENCH_SERVER_SCRIPT (another tree's webhook-bench-server.ts, to measure its code),
 *   BENCH_LIMIT_ARGS (--webhook-* flags for the server, space-separated).
 *
 * rate (`npm run bench:webhook -- rate`): 200 reviews a second for a minute, open loop (see rate()).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { postReview, RawClient, type RawOutcome } from '../src/testing/webhook-tls.ts';
import { REVIEW_BODY, startBenchWebhook } from './webhook-fixture.ts';

const MiB = 2 ** 20;
const mode = process.argv[2] ?? 'latency';

async function latency(): Promise<void> {
  const reviews = Number(process.env.BENCH_REVIEWS ?? 2000);
  const gpuNodes = Number(process.env.BENCH_GPU_NODES ?? 1000);
  const hook = await startBenchWebhook([], gpuNodes);
  const agent = new Agent({ connect: { ca: hook.cert } });
  const times: number[] = [];
  for (let i = 0; i < reviews; i++) {
    const t = process.hrtime.bigint();
    const r = await request(`https://127.0.0.1:${String(hook.server.port)}/mutate-v1-pod`, {
      method: 'POST',
      body: REVIEW_BODY,
      dispatcher: agent,
    });
    const text = await r.body.text();
    if (!text.includes('JSONPatch') || (gpuNodes > 0 && !text.includes('USD/h')))
      throw new Error(`unexpected answer: ${text}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN).toFixed(2);
  console.log(
    `webhook bench: ${String(reviews)} reviews over TLS, 50 spot policies, a budget, ${String(gpuNodes)} GPU nodes: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`,
  );
  await hook.stop();
  await agent.close();
}

type Variant = 'length' | 'chunked' | 'under';

const rssMb = (pid: number): number => {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))?.[1];
  return Number(kb ?? NaN) / 1024;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the variant's headers and body bytes, waiting on back-pressure; stops early when the server cuts it. */
async function stallBody(client: RawClient, variant: Variant, stallBytes: number): Promise<void> {
  const bytes = variant === 'under' ? 2 * MiB : stallBytes;
  client.writeHeaders(variant === 'chunked' ? undefined : bytes + 1);
  const piece = Buffer.alloc(64 * 1024, 0x20);
  for (let sent = 0; sent < bytes && !client.socket.destroyed; sent += piece.length) {
    if (!client.writeBody(piece, variant === 'chunked')) {
      await new Promise<void>((resolve) => {
        const done = () => {
          client.socket.off('drain', done).off('close', done);
          resolve();
        };
        client.socket.on('drain', done).on('close', done);
      });
    }
  }
}

interface StallRow {
  variant: Variant;
  stalled: number;
  baselineMb: number;
  peakMb: number;
  afterHoldMb: number;
  review: string;
  outcomes: string;
}

/** One process of the server, `stalled` callers of one variant, RSS sampled every 50 ms over the hold. */
async function stallRun(variant: Variant, stalled: number, holdMs: number): Promise<StallRow> {
  const script = process.env.BENCH_SERVER_SCRIPT ?? resolve(import.meta.dirname, 'webhook-bench-server.ts');
  const limitArgs = (process.env.BENCH_LIMIT_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--max-old-space-size=160', '--max-semi-space-size=4', script, ...limitArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = child.pid ?? 0;
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  const { port, cert } = JSON.parse(String(first.value)) as { port: number; cert: string };
  for (let i = 0; i < 200; i++) await postReview(port, cert, REVIEW_BODY);
  const baselineMb = rssMb(pid);
  let peakMb = baselineMb;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb(pid))), 50);
  const started = performance.now();
  const clients = await Promise.all(
    Array.from({ length: stalled }, () => RawClient.open(port, cert).catch(() => undefined)),
  );
  const outcomes: (RawOutcome | undefined)[] = clients.map(() => undefined);
  clients.forEach((c, i) => void c?.outcome.then((o) => (outcomes[i] = o)));
  const stallBytes = Number(process.env.BENCH_STALL_BYTES ?? 4 * MiB);
  await Promise.all(clients.map((c) => (c ? stallBody(c, variant, stallBytes) : Promise.resolve())));
  const t = performance.now();
  const review = await postReview(port, cert, REVIEW_BODY).then(
    (o) => `${String(o.status)} in ${(performance.now() - t).toFixed(0)} ms`,
    (error: unknown) => `failed: ${(error as Error).message}`,
  );
  await sleep(Math.max(0, holdMs - (performance.now() - started)));
  const afterHoldMb = rssMb(pid);
  clearInterval(sampler);
  const tally = new Map<string, number>();
  for (const [i, c] of clients.entries()) {
    const word = !c ? 'dropped' : outcomes[i] ? String(outcomes[i].status || 'closed') : 'open';
    tally.set(word, (tally.get(word) ?? 0) + 1);
    c?.close();
  }
  child.kill();
  const outcomeText = [...tally].map(([word, n]) => `${String(n)} ${word}`).join(', ');
  return { variant, stalled, baselineMb, peakMb, afterHoldMb, review, outcomes: outcomeText };
}

async function stall(): Promise<void> {
  const counts = (process.env.BENCH_STALLED ?? '40,90').split(',').map(Number);
  const variants = (process.env.BENCH_STALL_VARIANTS ?? 'length,chunked,under').split(',') as Variant[];
  const holdMs = Number(process.env.BENCH_STALL_HOLD_MS ?? 5000);
  console.log(
    '| variant | stalled | RSS before | peak RSS | RSS at the end of the hold | a review meanwhile | stalled callers |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const variant of variants) {
    for (const n of counts) {
      const r = await stallRun(variant, n, holdMs);
      const mb = (x: number) => `${x.toFixed(0)} MB`;
      console.log(
        `| ${r.variant} | ${String(r.stalled)} | ${mb(r.baselineMb)} | ${mb(r.peakMb)} | ${mb(r.afterHoldMb)} | ${r.review} | ${r.outcomes} |`,
      );
    }
  }
}

/**
 * A steady load, open loop: a review every 1000/BENCH_RATE ms (200 a second) for BENCH_RATE_SECONDS (60), over
 * up to 16 keep-alive connections, whatever the answers take; each answer timed from when it was due, so a
 * stall shows in the figures rather than slowing the load. The server is a child process under the image's heap
 * flags with BENCH_GPU_NODES (1000) GPU nodes and 50 spot policies and 50 exceeded budgets in Audit (the review
 * matches one of each); its RSS is sampled every 100 ms.
 */
async function rate(): Promise<void> {
  const perSecond = Number(process.env.BENCH_RATE ?? 200);
  const seconds = Number(process.env.BENCH_RATE_SECONDS ?? 60);
  const script = resolve(import.meta.dirname, 'webhook-bench-server.ts');
  const child = spawn(process.execPath, ['--max-old-space-size=160', '--max-semi-space-size=4', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_GPU_NODES: process.env.BENCH_GPU_NODES ?? '1000', BENCH_BUDGETS: '50' },
  });
  const pid = child.pid ?? 0;
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const { port, cert } = JSON.parse(String((await lines.next()).value)) as { port: number; cert: string };
  const agent = new Agent({ connect: { ca: cert }, connections: 16, pipelining: 1 });
  const url = `https://127.0.0.1:${String(port)}/mutate-v1-pod`;
  const review = async (): Promise<string> =>
    (await request(url, { method: 'POST', body: REVIEW_BODY, dispatcher: agent })).body.text();
  for (let i = 0; i < 200; i++) await review(); // warm: the first review prices the fleet
  const baselineMb = rssMb(pid);
  let peakMb = baselineMb;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb(pid))), 100);
  const times: number[] = [];
  let failures = 0;
  const firstFailure: string[] = [];
  const total = perSecond * seconds;
  const gapMs = 1000 / perSecond;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const dueMs = started + i * gapMs;
    const wait = dueMs - performance.now();
    if (wait > 0) await sleep(wait);
    // From when it was due, or from when it went out if the timer fired early (Node's run to the millisecond).
    const fromMs = Math.min(dueMs, performance.now());
    inFlight.push(
      review().then(
        (text) => {
          if (!text.includes('JSONPatch') || !text.includes('USD/h') || !text.includes('would')) {
            failures += 1;
            if (firstFailure.length === 0) firstFailure.push(text.slice(0, 300));
          }
          times.push(performance.now() - fromMs);
        },
        (error: unknown) => {
          failures += 1;
          if (firstFailure.length === 0) firstFailure.push((error as Error).message);
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - started) / 1000;
  const endMb = rssMb(pid);
  clearInterval(sampler);
  child.kill();
  await agent.close();
  times.sort((a, b) => a - b);
  const at = (q: number) => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN).toFixed(2);
  console.log(
    `webhook rate bench: ${String(total)} reviews at ${String(perSecond)}/s for ${String(seconds)} s (done in ${elapsedS.toFixed(1)} s) over TLS, 50 spot policies, 50 exceeded budgets, ${process.env.BENCH_GPU_NODES ?? '1000'} GPU nodes: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms from when each was due; ${String(failures)} failed${firstFailure.length > 0 ? ` (first: ${firstFailure[0] ?? ''})` : ''}; server RSS ${baselineMb.toFixed(0)} MB warm, peak ${peakMb.toFixed(0)} MB, ${endMb.toFixed(0)} MB at the end`,
  );
}

if (mode === 'stall') await stall();
else if (mode === 'latency') await latency();
else if (mode === 'rate') await rate();
else throw new Error(`unknown mode "${mode}": latency, stall or rate`);
