import { describe, expect, it } from 'vitest';
import { ledgerSpan } from './recommender-inputs.ts';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

describe('ledgerSpan', () => {
  it.each([
    [
      'the defaults: a day, 2 h empty, hourly windows',
      H,
      D,
      2 * H,
      { workloadSpanMs: D, nodeSpanMs: D, lookBackMs: D },
    ],
    [
      'a window not a whole number of windows is rounded up',
      H,
      90 * M,
      2 * H,
      { workloadSpanMs: 2 * H, nodeSpanMs: 2 * H, lookBackMs: 2 * H },
    ],
    [
      'the empty threshold longer than the window',
      15 * M,
      H,
      3 * H,
      { workloadSpanMs: H, nodeSpanMs: 3 * H, lookBackMs: 3 * H },
    ],
    [
      'a week of window keeps a day of Node rows',
      H,
      7 * D,
      2 * H,
      { workloadSpanMs: 7 * D, nodeSpanMs: D, lookBackMs: 7 * D },
    ],
    [
      'the e2e: minute windows, 2 m each',
      M,
      2 * M,
      2 * M,
      { workloadSpanMs: 2 * M, nodeSpanMs: 2 * M, lookBackMs: 2 * M },
    ],
  ])('%s', (_name, ledgerWindowMs, windowMs, emptyAfterMs, expected) => {
    expect(ledgerSpan(ledgerWindowMs, windowMs, emptyAfterMs)).toEqual({ ledgerWindowMs, ...expected });
  });
});
