import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

const AWS = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'sk', AWS_SESSION_TOKEN: 'st' };

/** The ConfigError's message, exactly. */
function problem(argv: readonly string[], env: Record<string, string> = {}): string {
  try {
    parseConfig(argv, env, 'h');
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('no problem found');
}

describe('Prometheus options', () => {
  it('by default: the local Prometheus, no credentials, no TLS files, no headers', () => {
    expect(parseConfig([], {}, 'h').prometheus).toEqual({
      url: 'http://127.0.0.1:9090',
      timeoutMs: 10_000,
      auth: { kind: 'none' },
      tls: { caFile: undefined, certFile: undefined, keyFile: undefined },
      headers: [],
    });
  });

  it("moves the URL's user info into basic auth: the URL config holds can be shown", () => {
    const c = parseConfig(['--prometheus-url', 'https://alice:s3cr%40t@prom.example/prometheus'], {}, 'h');
    expect(c.prometheus.url).toBe('https://prom.example/prometheus');
    expect(c.prometheus.auth).toEqual({ kind: 'basic', username: 'alice', password: 's3cr@t' });
  });

  it('reads every credential and TLS option, and repeated headers (flags and the variable)', () => {
    const files = [
      ['--prometheus-url', 'https://mimir.example'],
      ['--prometheus-bearer-token-file', '/var/run/token'],
      ['--prometheus-ca-file', '/etc/prom/ca.crt'],
      ['--prometheus-cert-file', '/etc/prom/tls.crt'],
      ['--prometheus-key-file', '/etc/prom/tls.key'],
      ['--prometheus-header', 'X-Scope-OrgID: tenant-a'],
      ['--prometheus-header=X-Extra:  b c '],
    ].flat();
    const c = parseConfig(files, {}, 'h').prometheus;
    expect(c.auth).toEqual({ kind: 'bearer-file', tokenFile: '/var/run/token' });
    expect(c.tls).toEqual({ caFile: '/etc/prom/ca.crt', certFile: '/etc/prom/tls.crt', keyFile: '/etc/prom/tls.key' });
    expect(c.headers).toEqual([
      ['X-Scope-OrgID', 'tenant-a'],
      ['X-Extra', 'b c'],
    ]);
    const env = { AICOST_PROMETHEUS_HEADER: 'X-Scope-OrgID: t1|t2\nX-Other: 1\n' };
    expect(parseConfig([], env, 'h').prometheus.headers).toEqual([
      ['X-Scope-OrgID', 't1|t2'],
      ['X-Other', '1'],
    ]);
  });

  it('basic auth from a password file; SigV4 with the AWS_* credentials', () => {
    const basic = ['--prometheus-username', 'bob', '--prometheus-password-file', '/etc/prom/password'];
    expect(parseConfig(basic, {}, 'h').prometheus.auth).toEqual({
      kind: 'basic-file',
      username: 'bob',
      passwordFile: '/etc/prom/password',
    });
    const amp = [
      '--prometheus-url',
      'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
      '--prometheus-sigv4-region',
      'eu-west-1',
    ];
    expect(parseConfig(amp, AWS, 'h').prometheus.auth).toEqual({
      kind: 'sigv4',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 'sk', sessionToken: 'st' },
    });
  });

  it.each([
    [
      'two ways to authenticate',
      ['--prometheus-url', 'https://a:b@prom', '--prometheus-bearer-token-file', '/t'],
      {},
      'the user info of --prometheus-url and --prometheus-bearer-token-file are 2 ways to authenticate: give one',
    ],
    [
      'a user name without its password',
      ['--prometheus-username', 'bob'],
      {},
      '--prometheus-username and --prometheus-password-file go together: give both or neither',
    ],
    [
      'a certificate without its key',
      ['--prometheus-url', 'https://prom', '--prometheus-cert-file', '/c'],
      {},
      '--prometheus-cert-file and --prometheus-key-file go together: give both or neither',
    ],
    [
      'TLS files for plain http',
      ['--prometheus-ca-file', '/ca'],
      {},
      '--prometheus-ca-file: TLS files need an https:// --prometheus-url',
    ],
    [
      'SigV4 without credentials, over http',
      ['--prometheus-sigv4-region', 'us-east-1'],
      {},
      '--prometheus-sigv4-region: SigV4 needs an https:// --prometheus-url\n' +
        '--prometheus-sigv4-region needs credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set',
    ],
    [
      'a bad region',
      ['--prometheus-sigv4-region', 'Europe'],
      AWS,
      '--prometheus-sigv4-region: "Europe" is not an AWS region such as us-east-1',
    ],
    [
      'an Authorization header',
      ['--prometheus-header', 'Authorization: Bearer x'],
      {},
      '--prometheus-header: "Authorization" may not be set here: use --prometheus-bearer-token-file or --prometheus-password-file, which keep it out of the pod spec',
    ],
    [
      'a cookie',
      ['--prometheus-header', 'Cookie: session=abc'],
      {},
      '--prometheus-header: "Cookie" may not be set here: credentials are not passed as headers',
    ],
    [
      'not a header',
      ['--prometheus-header', 'X-Scope-OrgID=tenant'],
      {},
      '--prometheus-header: "X-Scope-OrgID=tenant" is not a header such as "X-Scope-OrgID: tenant-a"',
    ],
    [
      'a header twice',
      [],
      { AICOST_PROMETHEUS_HEADER: 'X-Scope-OrgID: a\nx-scope-orgid: b' },
      'AICOST_PROMETHEUS_HEADER: "x-scope-orgid" is given twice',
    ],
    [
      'a control character',
      ['--prometheus-header', 'X-A: a\rb'],
      {},
      '--prometheus-header: the value of "X-A" has a control character',
    ],
  ])('names the options at fault: %s', (_name, argv, env, message) => {
    expect(problem(argv, env)).toBe(message);
  });

  it('never quotes a password in an error', () => {
    for (const argv of [
      ['--prometheus-url', 'ftp://alice:s3cret@prom'],
      ['--prometheus-url', 'https://alice:s3cret@prom', '--prometheus-bearer-token-file', '/t'],
      ['--prometheus-url', 'https://alice:s3cret@prom', '--prometheus-ca-file', '/ca', '--prometheus-cert-file', '/c'],
      ['--ledger', 's3://alice:s3cret@bucket/x'],
    ]) {
      const message = problem(argv);
      expect(message).not.toContain('s3cret');
      expect(message.length).toBeGreaterThan(0);
    }
  });
});
