import { describe, expect, it } from 'vitest';
import { accruedBefore, boundariesInside, floorDiv, splitProRata, windowStartOf } from './window-split.ts';

const HOUR = 3600;
const T = Date.UTC(2026, 10, 1, 13) / 1000; // 2026-11-01T13:00:00Z, a window start

describe('window split', () => {
  it('aligns windows to the epoch, so a day holds whole windows from UTC midnight', () => {
    expect(windowStartOf(T + 59 * 60, HOUR)).toBe(T);
    expect(windowStartOf(T, HOUR)).toBe(T);
    expect(windowStartOf(T - 1, 15 * 60)).toBe(T - 15 * 60);
    expect(boundariesInside(T - 30, T + 30, HOUR)).toEqual([T]);
    expect(boundariesInside(T, T + HOUR, HOUR)).toEqual([]); // ends on the boundary: nothing inside
    expect(boundariesInside(T - 1, T + 2 * HOUR + 1, HOUR)).toEqual([T, T + HOUR, T + 2 * HOUR]);
  });

  it('floors toward minus infinity', () => {
    expect([floorDiv(7n, 2n), floorDiv(-7n, 2n), floorDiv(-8n, 2n), floorDiv(0n, 3n)]).toEqual([3n, -4n, -4n, 0n]);
  });

  // amount, from, to (seconds after T), window seconds, expected shares [window start after T, amount]
  const table: [string, bigint, number, number, number, [number, bigint][]][] = [
    ['inside one window', 1000n, 60, 120, HOUR, [[0, 1000n]]],
    ['ends on the boundary', 1000n, HOUR - 60, HOUR, HOUR, [[0, 1000n]]],
    ['starts on the boundary', 1000n, HOUR, HOUR + 60, HOUR, [[HOUR, 1000n]]],
    [
      '10 s before, 50 s after: 166.6 rounds down, the remainder later',
      1000n,
      HOUR - 10,
      HOUR + 50,
      HOUR,
      [
        [0, 166n],
        [HOUR, 834n],
      ],
    ],
    [
      'an even split',
      100n,
      -30,
      30,
      HOUR,
      [
        [-HOUR, 50n],
        [0, 50n],
      ],
    ],
    [
      'one nano over a minute: the earlier window gets none',
      1n,
      -1,
      59,
      HOUR,
      [
        [-HOUR, 0n],
        [0, 1n],
      ],
    ],
    [
      'across three windows',
      7n,
      -1800,
      2 * HOUR + 1800,
      HOUR,
      [
        [-HOUR, 1n], // floor(7 × 1800 / 10800) = 1
        [0, 2n], // floor(7 × 5400 / 10800) = 3, minus 1
        [HOUR, 2n], // floor(7 × 9000 / 10800) = 5, minus 3
        [2 * HOUR, 2n],
      ],
    ],
    [
      'negative: the floors still give the remainder to the later window',
      -1000n,
      HOUR - 10,
      HOUR + 50,
      HOUR,
      [
        [0, -167n],
        [HOUR, -833n],
      ],
    ],
    ['an empty span', 5n, 60, 60, HOUR, [[0, 5n]]],
  ];
  it.each(table)('%s', (_name, amount, from, to, windowSeconds, expected) => {
    const shares = splitProRata(amount, T + from, T + to, windowSeconds);
    expect(shares.map((s) => [s.windowStartSeconds - T, s.amount])).toEqual(expected);
    expect(shares.reduce((sum, s) => sum + s.amount, 0n)).toBe(amount);
  });

  it('agrees with accruedBefore at every boundary', () => {
    const shares = splitProRata(123_456_789n, T - 1234, T + 3 * HOUR + 17, HOUR);
    let sum = 0n;
    for (const share of shares.slice(0, -1)) {
      sum += share.amount;
      expect(sum).toBe(accruedBefore(123_456_789n, T - 1234, T + 3 * HOUR + 17, share.windowStartSeconds + HOUR));
    }
  });
});
