import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('hands out the burst at once, then one token per 1/qps seconds', () => {
    const bucket = new TokenBucket(10, 3, new FakeClock());
    const waitsMs = Array.from({ length: 5 }, () => bucket.reserve());
    expect(waitsMs.map((ms) => Math.round(ms))).toEqual([0, 0, 0, 100, 200]);
  });

  it('refills with time, never beyond the burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 2, clock);
    expect([bucket.reserve(), bucket.reserve()]).toEqual([0, 0]);
    await clock.advance(60_000);
    expect([bucket.reserve(), bucket.reserve(), Math.round(bucket.reserve())]).toEqual([0, 0, 100]);
  });

  it('take() waits on the clock for a token when the bucket is empty', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 1, clock);
    await bucket.take();
    let taken = false;
    void bucket.take().then(() => (taken = true));
    await clock.advance(499);
    expect(taken).toBe(false);
    await clock.advance(1);
    expect(taken).toBe(true);
  });
});
