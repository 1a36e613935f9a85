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

  it('writes the ledger to .aicost/ledger in hourly windows, under the kube-system uid unless told', () => {
    expect(parseConfig([], {}, 'h')).toMatchObject({ ledger: '.aicost/ledger', ledgerWindowMs: 3_600_000 });
    expect(parseConfig([], {}, 'h').clusterId).toBeUndefined();
    const c = parseConfig(
      ['--ledger', '/var/lib/aicost', '--ledger-window', '15m'],
      { AICOST_CLUSTER_ID: 'prod-eu-1' },
      'h',
    );
    expect(c).toMatchObject({ ledger: '/var/lib/aicost', ledgerWindowMs: 900_000, clusterId: 'prod-eu-1' });
    const aws = {
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:8333',
    };
    expect(parseConfig([], { AICOST_LEDGER: 's3://bucket/prefix', ...aws }, 'h')).toMatchObject({
      ledger: 's3://bucket/prefix',
      ledgerS3: { endpoint: 'http://127.0.0.1:8333', region: 'us-east-1', accessKeyId: 'AKID' },
    });
    expect(() => parseConfig([], { AICOST_LEDGER: 's3://bucket/prefix' }, 'h')).toThrow(
      '--ledger s3://bucket/prefix: an s3:// ledger needs credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set',
    );
    expect(parseConfig([], {}, 'h').ledgerS3).toBeUndefined();
  });

  it('keeps the ledger 400 days unless told: a duration of at least a day, or 0 for ever', () => {
    const retention = (argv: string[], env: Record<string, string> = {}) =>
      parseConfig(argv, env, 'h').ledgerRetentionMs;
    expect(retention([])).toBe(400 * 86_400_000);
    expect(retention(['--ledger-retention', '0'])).toBe(0);
    expect(retention(['--ledger-retention=0d'])).toBe(0);
    expect(retention([], { AICOST_LEDGER_RETENTION: '24h' })).toBe(86_400_000);
    expect(retention(['--ledger-retention', '36500d'])).toBe(36_500 * 86_400_000);
  });

  it.each([
    ['job="dcgm-exporter"', true],
    ['job=~"dcgm.*", namespace!="kube-system"', true],
    ['job="a\\"b"', true],
    ['job="x"} or vector(1) or {a="', false],
    ['job=dcgm', false],
    ['{job="x"}', false],
    ['job="x",', false],
  ])('--dcgm-selector %j accepted: %s', (selector, ok) => {
    const parse = () => parseConfig(['--dcgm-selector', selector], {}, 'h');
    if (ok) expect(parse().dcgmSelector).toBe(selector);
    else expect(parse).toThrow('is not a list of PromQL label matchers such as job="dcgm-exporter"');
  });

  it("reads the unit costs' window (0: off) and the inference series' selector", () => {
    const parse = (argv: string[], env = {}) => parseConfig(argv, env, 'h');
    expect([parse([]).inferenceWindowMs, parse([]).inferenceSelector]).toEqual([3_600_000, '']);
    expect(parse(['--inference-window', '0']).inferenceWindowMs).toBe(0);
    expect(parse(['--inference-window', '15m']).inferenceWindowMs).toBe(900_000);
    expect(parse([], { AICOST_INFERENCE_WINDOW: '24h' }).inferenceWindowMs).toBe(86_400_000);
    expect(parse(['--inference-selector', 'job=~"vllm|tgi"']).inferenceSelector).toBe('job=~"vllm|tgi"');
  });

  it.each([
    [['--inference-window', '30s'], '--inference-window: "30s" is below the minimum of 1m'],
    [['--inference-window', '2d'], '--inference-window: "2d" is above the maximum of 24h'],
    [
      ['--inference-window', 'hourly'],
      '--inference-window: "hourly" is not a duration such as 30s, 15m or 1h, or 0 for off',
    ],
    [
      ['--inference-selector', 'job="x"} or vector(1)'],
      '--inference-selector: "job=\\"x\\"} or vector(1)" is not a list of PromQL label matchers such as job="vllm"',
    ],
  ])('refuses inference options %j', (argv, message) => {
    expect(() => parseConfig(argv, {}, 'h')).toThrow(message);
  });

  it.each([
    [['--ledger-window', '7m'], '--ledger-window: "7m" does not divide a day (e.g. 15m, 1h, 6h)'],
    [['--ledger-window', '2d'], '--ledger-window: "2d" is above the maximum of 24h'],
    [['--cluster-id', 'Prod'], '--cluster-id: "Prod" is not a cluster id'],
    [['--ledger', ''], '--ledger: "" is empty'],
    [['--ledger-retention', '12h'], '--ledger-retention: "12h" is below the minimum of 1d'],
    [['--ledger-retention', '36501d'], '--ledger-retention: "36501d" is above the maximum of 36500d'],
    [['--ledger-retention', '13 months'], '--ledger-retention: "13 months" is not a duration such as 400d'],
  ])('refuses ledger options %j', (argv, message) => {
    expect(() => parseConfig(argv, {}, 'h')).toThrow(message);
  });

  it('elects a leader only when asked to, by flag or variable', () => {
    expect(parseConfig(['--leader-elect', 'true'], {}, 'h').leaderElection.enabled).toBe(true);
    expect(parseConfig(['--leader-elect=true'], {}, 'h').leaderElection.enabled).toBe(true);
    expect(parseConfig([], { AICOST_LEADER_ELECT: 'true' }, 'h').leaderElection.enabled).toBe(true);
    expect(parseConfig([], { AICOST_LEADER_ELECT: 'false' }, 'h').leaderElection.enabled).toBe(false);
  });

  it('serves /metrics plain unless --metrics-secure, which needs its own port and may name a certificate', () => {
    expect(parseConfig([], {}, 'h').metricsSecure).toBeUndefined();
    expect(parseConfig(['--metrics-secure', 'true'], {}, 'h').metricsSecure).toEqual({ certDir: undefined });
    expect(
      parseConfig([], { AICOST_METRICS_SECURE: 'true', AICOST_METRICS_CERT_DIR: '/etc/aicost/metrics-certs' }, 'h')
        .metricsSecure,
    ).toEqual({ certDir: '/etc/aicost/metrics-certs' });
    expect(() => parseConfig(['--metrics-secure', 'true', '--health-port', '8080'], {}, 'h')).toThrow(
      '--metrics-secure: secure /metrics needs a port of its own, but --metrics-port and --health-port are both 8080 (the probes stay plain HTTP)',
    );
    expect(() => parseConfig(['--metrics-cert-dir', '/certs'], {}, 'h')).toThrow(
      '--metrics-cert-dir: has no effect without --metrics-secure true',
    );
    expect(() => parseConfig(['--metrics-secure', 'yes'], {}, 'h')).toThrow(
      '--metrics-secure: "yes" is not one of true, false',
    );
  });

  it.each<[string, readonly string[], Record<string, string>, string | undefined, string]>([
    ['off by default', [], {}, undefined, ''],
    ['a plain key', ['--idle-owner-label', 'team'], {}, 'team', ''],
    ['a prefixed key, by variable', [], { AICOST_IDLE_OWNER_LABEL: 'example.com/team' }, 'example.com/team', ''],
    ['blanks around it', ['--idle-owner-label', ' team '], {}, 'team', ''],
    ['63 characters of name', ['--idle-owner-label', `a${'b'.repeat(62)}`], {}, `a${'b'.repeat(62)}`, ''],
    [
      '64 characters of name',
      ['--idle-owner-label', `a${'b'.repeat(63)}`],
      {},
      undefined,
      `--idle-owner-label: "a${'b'.repeat(63)}" is not a label key such as team or example.com/team`,
    ],
    [
      'a space',
      ['--idle-owner-label', 'cost team'],
      {},
      undefined,
      '--idle-owner-label: "cost team" is not a label key such as team or example.com/team',
    ],
    [
      'an upper-case prefix',
      [],
      { AICOST_IDLE_OWNER_LABEL: 'Example.com/team' },
      undefined,
      'AICOST_IDLE_OWNER_LABEL: "Example.com/team" is not a label key such as team or example.com/team',
    ],
  ])('reads --idle-owner-label: %s', (_name, argv, env, key, message) => {
    if (message !== '') expect(problem(argv, env)).toBe(message);
    else expect(parseConfig(argv, env, 'h').idleOwnerLabel).toBe(key);
  });

  it('takes flags over AICOST_ variables', () => {
    const c = parseConfig(
      ['--interval', '5s', '--label-keys', 'team, model'],
      { AICOST_INTERVAL: '1m', AICOST_PROMETHEUS_URL: 'http://prom:9090', AICOST_CURRENCY: 'EUR' },
      'h',
    );
    expect(c.intervalMs).toBe(5000);
    expect(c.labelKeys).toEqual(['team', 'model']);
    expect(c.prometheus.url).toBe('http://prom:9090');
    expect(c.currency).toBe('EUR');
  });

  it('accepts values at the bounds', () => {
    const c = parseConfig(
      [
        '--interval',
        '1h',
        '--idle-threshold',
        '0',
        '--prometheus-url',
        'https://prom.example:9090',
        '--currency',
        'EUR',
      ],
      { AICOST_LABEL_KEYS: 'a,b,c,d,e,f,g,h,i,app.kubernetes.io/name', AICOST_ANNOTATE_INTERVAL: '0s' },
      'h',
    );
    expect([
      c.intervalMs,
      c.idleThreshold,
      c.prometheus.url,
      c.currency,
      c.labelKeys.length,
      c.annotateIntervalMs,
    ]).toEqual([3_600_000, 0, 'https://prom.example:9090', 'EUR', 10, 0]);
  });

  /** The ConfigError's message, exactly. */
  const problem = (argv: readonly string[], env: Record<string, string> = {}): string => {
    try {
      parseConfig(argv, env, 'h');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`${JSON.stringify(argv)} parsed`);
  };

  it.each<[string, readonly string[], Record<string, string>, string]>([
    [
      'not a duration',
      ['--interval', '5 minutes'],
      {},
      '--interval: "5 minutes" is not a duration such as 30s, 15m or 1h',
    ],
    ['a bare number', ['--interval', '5'], {}, '--interval: "5" is not a duration such as 30s, 15m or 1h'],
    ['too short', ['--interval', '0s'], {}, '--interval: "0s" is below the minimum of 1s'],
    ['too long', ['--interval', '2h'], {}, '--interval: "2h" is above the maximum of 1h'],
    ['in ms', ['--prometheus-timeout', '50ms'], {}, '--prometheus-timeout: "50ms" is below the minimum of 100ms'],
    [
      'from the variable',
      [],
      { AICOST_INTERVAL: '-1m' },
      'AICOST_INTERVAL: "-1m" is not a duration such as 30s, 15m or 1h',
    ],
    [
      'the flag over the variable',
      ['--interval', 'x'],
      { AICOST_INTERVAL: '1m' },
      '--interval: "x" is not a duration such as 30s, 15m or 1h',
    ],
    ['not whole', ['--idle-threshold', '1.5'], {}, '--idle-threshold: "1.5" is not a whole number'],
    ['over the range', ['--idle-threshold', '120'], {}, '--idle-threshold: "120" is above the maximum of 100'],
    ['under the range', ['--write-qps', '0'], {}, '--write-qps: "0" is below the minimum of 1'],
    ['a port', [], { AICOST_METRICS_PORT: '70000' }, 'AICOST_METRICS_PORT: "70000" is above the maximum of 65535'],
    ['a mode', ['--default-mode', 'enforce'], {}, '--default-mode: "enforce" is not one of Audit, Enforce'],
    ['a boolean', ['--leader-elect', 'yes'], {}, '--leader-elect: "yes" is not one of true, false'],
    ['conventions', ['--spot-conventions', 'aws'], {}, '--spot-conventions: "aws" is not one of all, observed'],
    [
      'a log level',
      [],
      { AICOST_LOG_LEVEL: 'verbose' },
      'AICOST_LOG_LEVEL: "verbose" is not one of trace, debug, info, warn, error, fatal',
    ],
    [
      'a URL',
      ['--prometheus-url', 'not a url'],
      {},
      '--prometheus-url: "not a url" is not an http(s) URL such as http://prometheus:9090',
    ],
    [
      'not http',
      ['--prometheus-url', 'ftp://prom'],
      {},
      '--prometheus-url: "ftp://prom" is not an http(s) URL such as http://prometheus:9090',
    ],
    [
      'a label key',
      ['--label-keys', 'team,Team Name'],
      {},
      '--label-keys: "Team Name" is not a label key such as team or app.kubernetes.io/name',
    ],
    [
      'too many keys',
      ['--label-keys', 'a,b,c,d,e,f,g,h,i,j,k'],
      {},
      '--label-keys: "a,b,c,d,e,f,g,h,i,j,k" has 11 keys, more than 10',
    ],
    ['lower case', ['--currency', 'usd'], {}, '--currency: "usd" is not an ISO 4217 currency code such as USD or EUR'],
    [
      'no such currency',
      [],
      { AICOST_CURRENCY: 'XYZ' },
      'AICOST_CURRENCY: "XYZ" is not an ISO 4217 currency code such as USD or EUR',
    ],
    ['an empty name', ['--namespace', ''], {}, '--namespace: "" is empty'],
    [
      'a long name',
      ['--leader-election-id', 'x'.repeat(64)],
      {},
      `--leader-election-id: "${'x'.repeat(64)}" is longer than 63 characters`,
    ],
    [
      'a webhook without certificates',
      ['--webhook-port', '9443'],
      {},
      '--webhook-port: "9443" turns the webhook on, which needs --webhook-cert-dir (make one with "aicost webhook-cert --dir DIR")',
    ],
    [
      'a webhook that could never read a body of the largest size',
      ['--webhook-max-body', '4Mi', '--webhook-max-in-flight', '2Mi'],
      {},
      '--webhook-max-in-flight: "2Mi" is less than --webhook-max-body, "4Mi": a body of that size could never be read',
    ],
    [
      'a size without its unit',
      ['--webhook-max-body', '3 MB'],
      {},
      '--webhook-max-body: "3 MB" is not a size such as 3Mi, 512Ki or 1048576',
    ],
    [
      'a body cap over its bound',
      ['--webhook-max-body', '1Gi'],
      {},
      '--webhook-max-body: "1Gi" is above the maximum of 64Mi',
    ],
    [
      'every problem, a line each',
      ['--interval', 'x', '--write-qps', '0'],
      {},
      '--interval: "x" is not a duration such as 30s, 15m or 1h\n--write-qps: "0" is below the minimum of 1',
    ],
    [
      'an unknown option and its value',
      ['--bogus', 'x'],
      {},
      '--bogus: no such option; "aicost run --help" lists them',
    ],
    ['a missing value', ['--interval'], {}, '--interval: needs a value'],
    ['a stray word', ['5m'], {}, '"5m": not an option; write options as --name value or --name=value'],
  ])('names the option and quotes the value: %s', (_name, argv, env, message) => {
    expect(problem(argv, env)).toBe(message);
  });

  it("bounds the webhook's server by default: 3Mi bodies, 32Mi in flight, 2s to read, 120s idle, 256 connections", () => {
    const on = ['--webhook-port', '9443', '--webhook-cert-dir', '/certs'];
    expect(parseConfig([], {}, 'h').webhook).toBeUndefined();
    expect(parseConfig(on, {}, 'h').webhook).toEqual({
      port: 9443,
      certDir: '/certs',
      limits: {
        maxBodyBytes: 3 * 2 ** 20,
        maxInFlightBytes: 32 * 2 ** 20,
        readTimeoutMs: 2000,
        idleTimeoutMs: 120_000,
        maxConnections: 256,
      },
    });
    const set = [
      ...on,
      '--webhook-max-body=512Ki',
      '--webhook-max-in-flight=1048576',
      '--webhook-read-timeout=500ms',
      '--webhook-idle-timeout=5s',
      '--webhook-max-connections=16',
    ];
    expect(parseConfig(set, {}, 'h').webhook?.limits).toEqual({
      maxBodyBytes: 512 * 1024,
      maxInFlightBytes: 2 ** 20,
      readTimeoutMs: 500,
      idleTimeoutMs: 5000,
      maxConnections: 16,
    });
  });

  it('the webhook role needs the webhook on; the operator role does not', () => {
    expect(parseConfig([], {}, 'h').role).toBe('operator');
    expect(() => parseConfig([], {}, 'h', 'webhook')).toThrow(
      '--webhook-port: "0" turns the webhook off, and the webhook command serves nothing else: give it a port (the chart uses 9443)',
    );
    const c = parseConfig([], { AICOST_WEBHOOK_PORT: '9443', AICOST_WEBHOOK_CERT_DIR: '/c' }, 'h', 'webhook');
    expect(c).toMatchObject({ role: 'webhook', webhook: { port: 9443, certDir: '/c' } });
  });

  // A leader steps down after the renew deadline, before a standby may take the Lease after the lease duration.
  it.each<[string, readonly string[], Record<string, string>, string | undefined]>([
    ['the defaults: 2s < 10s < 15s', [], {}, undefined],
    ['longer, in order', ['--retry-period', '5s', '--renew-deadline', '20s', '--lease-duration', '30s'], {}, undefined],
    [
      'a 60 s retry with a 15 s lease',
      ['--retry-period', '60s'],
      {},
      '--retry-period: "60s" is not shorter than --renew-deadline, "10s" ' +
        '(leader election needs --retry-period < --renew-deadline < --lease-duration)',
    ],
    [
      'a retry as long as the renew deadline',
      ['--retry-period', '10s'],
      {},
      '--retry-period: "10s" is not shorter than --renew-deadline, "10s" ' +
        '(leader election needs --retry-period < --renew-deadline < --lease-duration)',
    ],
    [
      'renew after the lease',
      ['--renew-deadline', '20s'],
      {},
      '--renew-deadline: "20s" is not shorter than --lease-duration, "15s" ' +
        '(leader election needs --retry-period < --renew-deadline < --lease-duration)',
    ],
    [
      'renew as long as the lease, from variables',
      [],
      { AICOST_RENEW_DEADLINE: '15s', AICOST_LEASE_DURATION: '15s' },
      'AICOST_RENEW_DEADLINE: "15s" is not shorter than AICOST_LEASE_DURATION, "15s" ' +
        '(leader election needs --retry-period < AICOST_RENEW_DEADLINE < AICOST_LEASE_DURATION)',
    ],
    [
      'both out of order, a line each',
      ['--retry-period', '30s', '--renew-deadline', '20s'],
      {},
      '--retry-period: "30s" is not shorter than --renew-deadline, "20s" ' +
        '(leader election needs --retry-period < --renew-deadline < --lease-duration)\n' +
        '--renew-deadline: "20s" is not shorter than --lease-duration, "15s" ' +
        '(leader election needs --retry-period < --renew-deadline < --lease-duration)',
    ],
  ])('orders the lease timings: %s', (_name, argv, env, message) => {
    if (message === undefined) expect(() => parseConfig(argv, env, 'h')).not.toThrow();
    else expect(problem(argv, env)).toBe(message);
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
