import { describe, expect, it } from 'vitest';
import { parseMoney } from '../cost/money.ts';
import { crossThresholds, reachedThresholds, type ThresholdMemory } from './thresholds.ts';

const DEFAULT = [60, 80, 95, 100];
const P1 = Date.UTC(2026, 10, 1);
const P2 = Date.UTC(2026, 11, 1);
const $ = parseMoney;
const mem = (periodStartMs: number, last: number): ThresholdMemory => ({ periodStartMs, last });

describe('crossThresholds', () => {
  it.each<
    [string, readonly number[], string, string, number, ThresholdMemory | undefined, number[], number | undefined]
  >([
    // name, alertAt, amount, spent, period, remembered, crossed, last
    ['nothing reached', DEFAULT, '100', '59.999999999', P1, undefined, [], undefined],
    ['exactly 60 % is reached', DEFAULT, '100', '60', P1, undefined, [60], 60],
    ['one interval crosses several: one each', DEFAULT, '100', '96', P1, undefined, [60, 80, 95], 95],
    ['only those above the remembered one', DEFAULT, '100', '96', P1, mem(P1, 60), [80, 95], 95],
    ['none again at the same level', DEFAULT, '100', '97', P1, mem(P1, 95), [], 95],
    ['100 % is exceeded', DEFAULT, '100', '100', P1, mem(P1, 95), [100], 100],
    ['past 100 % nothing more', DEFAULT, '100', '250', P1, mem(P1, 100), [], 100],
    ['a threshold above 100', [50, 100, 150], '100', '151', P1, mem(P1, 100), [150], 150],
    ['a new period forgets the last one', DEFAULT, '100', '61', P2, mem(P1, 100), [60], 60],
    ['a new period under every threshold', DEFAULT, '100', '1', P2, mem(P1, 100), [], undefined],
    ['the amount raised: back under 80, 60 kept', DEFAULT, '200', '130', P1, mem(P1, 80), [], 60],
    ['the amount raised: under every threshold', DEFAULT, '1000', '130', P1, mem(P1, 80), [], undefined],
    ['the amount lowered: the new ones at once', DEFAULT, '50', '48', P1, mem(P1, 60), [80, 95], 95],
    ['alertAt unsorted, with a repeat', [100, 80, 80, 60], '10', '8.5', P1, undefined, [60, 80], 80],
    ['no thresholds', [], '10', '20', P1, undefined, [], undefined],
    ['nano precision: one nano short of 80 %', DEFAULT, '1.000000001', '0.800000000', P1, undefined, [60], 60],
  ])('%s', (_name, alertAt, amount, spent, period, previous, crossed, last) => {
    expect(crossThresholds(alertAt, $(amount), $(spent), period, previous)).toEqual({ crossed, last });
  });

  it('crosses each threshold once over a period of small steps, and again in the next period', () => {
    const events: string[] = [];
    let memory: ThresholdMemory | undefined;
    for (const [period, spent] of [
      [P1, '10'],
      [P1, '61'],
      [P1, '62'],
      [P1, '99'],
      [P1, '101'],
      [P1, '140'],
      [P2, '70'],
      [P2, '96'],
    ] as const) {
      const outcome = crossThresholds(DEFAULT, $('100'), $(spent), period, memory);
      events.push(...outcome.crossed.map((t) => `${period === P1 ? 'P1' : 'P2'}:${t}`));
      memory = { periodStartMs: period, last: outcome.last };
    }
    expect(events).toEqual(['P1:60', 'P1:80', 'P1:95', 'P1:100', 'P2:60', 'P2:80', 'P2:95']);
  });
});

describe('reachedThresholds', () => {
  it('compares in integers: no float rounding at the boundary', () => {
    expect(reachedThresholds([95], $('0.3'), $('0.285'))).toEqual([95]);
    expect(reachedThresholds([95], $('0.3'), $('0.284999999'))).toEqual([]);
  });
});
