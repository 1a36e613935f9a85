import { describe, expect, it } from 'vitest';
import { Backoff, WATCH_BACKOFF } from './backoff.ts';
import { FakeClock } from './clock.ts';

const fixed = (random: number) => ({ ...WATCH_BACKOFF, random: () => random });

describe('the reflector backoff', () => {
  it('doubles from 1 s to 60 s, each wait stretched by up to half for jitter', () => {
    const clock = new FakeClock(0);
    const low = new Backoff(clock, fixed(0));
    expect(Array.from({ length: 9 }, () => low.next())).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
    const high = new Backoff(clock, fixed(0.999));
    expect(Array.from({ length: 3 }, () => high.next())).toEqual([1500, 2999, 5998]);
    expect(low.failures).toBe(9);
  });

  it('resets only after a watch has stayed up for two minutes, not when one merely opened', async () => {
    const clock = new FakeClock(0);
    const b = new Backoff(clock, fixed(0));
    b.next();
    b.next();
    b.healthy(); // a watch that fails after a minute: the backoff goes on
    await clock.advance(60_000);
    expect(b.next()).toBe(4000);
    b.healthy();
    await clock.advance(120_000);
    expect([b.next(), b.failures]).toEqual([1000, 1]);
  });
});
