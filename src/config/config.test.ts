import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';
import { parseDuration } from './duration.ts';

describe('configuration', () => {
  it('has working defaults', () => {
    const c = parseConfig([], {}, 'host');
    expect(c.intervalMs).toBe(60_000);
    expect(c.labelKeys).toEqual(['team', 'project', 'model', 'experiment', 'environment']);
    expect(c.leaderElection).toMatchObject({
      enabled: false,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
      namespace: 'aicost-system',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('elects a leader only when asked to, by flag or variable', () => {
    expect(parseConfig(['--leader-elect', 'true'], {}, 'h').leaderElection.enabled).toBe(true);
    expect(parseConfig(['--leader-elect=true'], {}, 'h').leaderElection.enabled).toBe(true);
    expect(parseConfig([], { AICOST_LEADER_ELECT: 'true' }, 'h').leaderElection.enabled).toBe(true);
    expect(parseConfig([], { AICOST_LEADER_ELECT: 'false' }, 'h').leaderElection.enabled).toBe(false);
  });

  it('takes flags over AICOST_ variables', () => {
    const c = parseConfig(
      ['--interval', '5s', '--label-keys', 'team, model'],
      { AICOST_INTERVAL: '1m', AICOST_PROMETHEUS_URL: 'http://prom:9090', AICOST_CURRENCY: 'EUR' },
      'h',
    );
    expect(c.intervalMs).toBe(5000);
    expect(c.labelKeys).toEqual(['team', 'model']);
    expect(c.prometheusUrl).toBe('http://prom:9090');
    expect(c.currency).toBe('EUR');
  });

  it.each([
    [['--interval', '5'], {}, /--interval: --interval must be a duration such as 30s/],
    [['--interval', '0s'], {}, /--interval must be between 1s and 3600s/],
    [[], { AICOST_INTERVAL: '-1m' }, /AICOST_INTERVAL: --interval must be a duration/],
    [['--idle-threshold', '120'], {}, /--idle-threshold must be between 0 and 100/],
    [['--currency', 'usd'], {}, /--currency: currency must be an ISO 4217 code/],
    [['--prometheus-url', 'not a url'], {}, /--prometheus-url must be an http\(s\) URL/],
    [['--label-keys', 'Team Name'], {}, /each --label-keys entry must be a label key/],
    [['--bogus', 'x'], {}, /Unknown option '--bogus'/],
    [['--renew-deadline', '20s'], {}, /--renew-deadline must be shorter than --lease-duration/],
  ] as const)('rejects %j %j with a message naming the option', (argv, env, message) => {
    expect(() => parseConfig(argv, env, 'h')).toThrow(ConfigError);
    expect(() => parseConfig(argv, env, 'h')).toThrow(message);
  });

  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['5', undefined],
    ['1.5h', undefined],
    ['', undefined],
  ])('duration %j is %s ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});
