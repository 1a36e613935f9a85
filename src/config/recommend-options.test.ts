import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env, 'host');

describe('the recommender options', () => {
  it('runs hourly over a day of data, flagging nodes empty for 2 h, by default', () => {
    expect(parse([])).toMatchObject({
      recommendIntervalMs: 3_600_000,
      recommendWindowMs: 86_400_000,
      recommendEmptyAfterMs: 7_200_000,
    });
  });

  it('takes flags over variables, and 0 turns the recommender off', () => {
    expect(parse(['--recommend-interval', '0']).recommendIntervalMs).toBe(0);
    expect(parse(['--recommend-interval', '10s', '--recommend-window', '2m']).recommendWindowMs).toBe(120_000);
    const c = parse(['--recommend-empty-after', '3m'], {
      AICOST_RECOMMEND_EMPTY_AFTER: '1h',
      AICOST_RECOMMEND_WINDOW: '7d',
    });
    expect(c).toMatchObject({ recommendEmptyAfterMs: 180_000, recommendWindowMs: 7 * 86_400_000 });
  });

  it.each([
    [['--recommend-interval', '5s'], '--recommend-interval: "5s" is below the minimum of 10s'],
    [['--recommend-interval', '2d'], '--recommend-interval: "2d" is above the maximum of 24h'],
    [['--recommend-window', '30s'], '--recommend-window: "30s" is below the minimum of 1m'],
    [['--recommend-window', '31d'], '--recommend-window: "31d" is above the maximum of 720h'],
    [
      ['--recommend-empty-after', 'weekly'],
      '--recommend-empty-after: "weekly" is not a duration such as 30s, 15m or 1h',
    ],
  ])('refuses %j', (argv, message) => {
    expect(() => parse(argv)).toThrow(ConfigError);
    expect(() => parse(argv)).toThrow(message);
  });
});
