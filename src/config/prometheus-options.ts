/**
 * The options that say how to reach Prometheus (or a compatible API: Thanos, Mimir, Cortex, a managed service):
 * where, how long to wait, as whom (basic auth, a bearer token file, AWS SigV4), over which TLS, with which
 * headers. Secrets are read from files, so they stay out of the pod spec and out of `ps`; a password in the
 * URL is accepted (for a local run) and moved out of it at once, so the URL config holds can be shown.
 */
import { z } from 'zod';
import { awsCredentialsFromEnv } from '../ledger/s3-settings.ts';
import { moveUserInfo, type PrometheusAuth, type PrometheusSettings } from '../measure/prometheus-connection.ts';
import { duration, httpUrl, quote } from './option-schemas.ts';

/** A header's name: an RFC 9110 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers a `--prometheus-header` may not set: those the client sets itself, and the credentials, which have
 * their own options reading files (a header's value is in the pod spec, readable by anyone who can read the pod).
 */
const RESERVED_HEADERS: Readonly<Record<string, string>> = {
  authorization: 'use --prometheus-bearer-token-file or --prometheus-password-file, which keep it out of the pod spec',
  'proxy-authorization': 'credentials are not passed as headers',
  cookie: 'credentials are not passed as headers',
  host: 'the operator sets it from --prometheus-url',
  'content-length': 'the operator sets it',
  'transfer-encoding': 'the operator sets it',
  connection: 'the operator sets it',
  accept: 'the operator sets it',
  'accept-encoding': 'the operator sets it',
  'x-amz-date': 'SigV4 signing sets it',
  'x-amz-security-token': 'SigV4 signing sets it',
};

/** `Name: value` lines (one per --prometheus-header flag, or per line of the variable), each name once. */
export const headerLines = z.string().transform((value, ctx) => {
  const pairs: [string, string][] = [];
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  for (const line of value.split('\n').filter((l) => l.trim() !== '')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, Math.max(colon, 0)).trim();
    const text = line.slice(colon + 1).trim();
    const reserved = RESERVED_HEADERS[name.toLowerCase()];
    if (colon < 0 || !HEADER_NAME.test(name))
      problem(`${quote(line)} is not a header such as "X-Scope-OrgID: tenant-a"`);
    else if (reserved !== undefined) problem(`${quote(name)} may not be set here: ${reserved}`);
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    else if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(text))
      problem(`the value of ${quote(name)} has a control character`);
    else if (pairs.some(([n]) => n.toLowerCase() === name.toLowerCase())) problem(`${quote(name)} is given twice`);
    else pairs.push([name, text]);
  }
  return pairs;
});

/** An AWS region such as us-east-1 or ap-southeast-2, or empty. */
const awsRegion = z.string().superRefine((value, ctx) => {
  if (value !== '' && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(value))
    ctx.addIssue({ code: 'custom', message: `${quote(value)} is not an AWS region such as us-east-1` });
});

const path = z.string();

export const PROMETHEUS_OPTIONS = {
  'prometheus-url': {
    help: 'Prometheus (or a compatible API) with the dcgm-exporter series; user:password@ in it is basic auth, better given with --prometheus-username and --prometheus-password-file',
    env: 'AICOST_PROMETHEUS_URL',
    default: 'http://127.0.0.1:9090',
    schema: httpUrl,
  },
  'prometheus-timeout': {
    help: 'timeout of one Prometheus query',
    env: 'AICOST_PROMETHEUS_TIMEOUT',
    default: '10s',
    schema: duration(100, 300_000),
  },
  'prometheus-username': {
    help: 'basic auth user name, with --prometheus-password-file',
    env: 'AICOST_PROMETHEUS_USERNAME',
    default: '',
    schema: z.string().max(256),
  },
  'prometheus-password-file': {
    help: 'file holding the basic auth password (re-read when it changes)',
    env: 'AICOST_PROMETHEUS_PASSWORD_FILE',
    default: '',
    schema: path,
  },
  'prometheus-bearer-token-file': {
    help: 'file holding a bearer token, re-read when it changes (a projected service account token, a token a sidecar refreshes)',
    env: 'AICOST_PROMETHEUS_BEARER_TOKEN_FILE',
    default: '',
    schema: path,
  },
  'prometheus-sigv4-region': {
    help: 'AWS region of an Amazon Managed Service for Prometheus workspace: queries are signed with SigV4 (service aps) with the AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN credentials',
    env: 'AICOST_PROMETHEUS_SIGV4_REGION',
    default: '',
    schema: awsRegion,
  },
  'prometheus-ca-file': {
    help: "PEM CA bundle that signed an https Prometheus's certificate (default: the system's roots)",
    env: 'AICOST_PROMETHEUS_CA_FILE',
    default: '',
    schema: path,
  },
  'prometheus-cert-file': {
    help: 'PEM client certificate for a Prometheus that asks for one (mTLS), with --prometheus-key-file; both re-read when they change',
    env: 'AICOST_PROMETHEUS_CERT_FILE',
    default: '',
    schema: path,
  },
  'prometheus-key-file': {
    help: 'PEM private key of --prometheus-cert-file',
    env: 'AICOST_PROMETHEUS_KEY_FILE',
    default: '',
    schema: path,
  },
  'prometheus-header': {
    help: "a header sent with every query, 'Name: value' (e.g. 'X-Scope-OrgID: tenant-a' for Mimir, Cortex or Thanos tenants); repeat the flag for more, one per line in the variable",
    env: 'AICOST_PROMETHEUS_HEADER',
    default: '',
    schema: headerLines,
  },
} as const;

/** Flags that may be given more than once. */
export const REPEATABLE_OPTIONS = ['prometheus-header'] as const;

type Options = typeof PROMETHEUS_OPTIONS;
type Name = keyof Options;
type Parsed = { readonly [K in Name]: z.output<Options[K]['schema']> };
type Env = Readonly<Record<string, string | undefined>>;

/** The ways to authenticate that were given, each with the option(s) that gave it. */
function authChoices(p: Parsed, at: Readonly<Record<Name, string>>, env: Env, problems: string[]) {
  const choices: { by: string; auth: () => PrometheusAuth }[] = [];
  const url = new URL(p['prometheus-url']);
  if (url.username !== '' || url.password !== '')
    choices.push({ by: `the user info of ${at['prometheus-url']}`, auth: () => moveUserInfo(url.href, NONE).auth });
  const username = p['prometheus-username'];
  const passwordFile = p['prometheus-password-file'];
  if ((username === '') !== (passwordFile === ''))
    problems.push(
      `${at['prometheus-username']} and ${at['prometheus-password-file']} go together: give both or neither`,
    );
  else if (username !== '')
    choices.push({ by: at['prometheus-username'], auth: () => ({ kind: 'basic-file', username, passwordFile }) });
  const tokenFile = p['prometheus-bearer-token-file'];
  if (tokenFile !== '')
    choices.push({ by: at['prometheus-bearer-token-file'], auth: () => ({ kind: 'bearer-file', tokenFile }) });
  const region = p['prometheus-sigv4-region'];
  if (region !== '') {
    const by = at['prometheus-sigv4-region'];
    if (url.protocol !== 'https:') problems.push(`${by}: SigV4 needs an https:// ${at['prometheus-url']}`);
    try {
      const credentials = awsCredentialsFromEnv(env, by);
      choices.push({ by, auth: () => ({ kind: 'sigv4', region, credentials }) });
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  return choices;
}

const NONE: PrometheusAuth = { kind: 'none' };

function tlsProblems(p: Parsed, at: Readonly<Record<Name, string>>): string[] {
  const problems: string[] = [];
  if ((p['prometheus-cert-file'] === '') !== (p['prometheus-key-file'] === ''))
    problems.push(`${at['prometheus-cert-file']} and ${at['prometheus-key-file']} go together: give both or neither`);
  const given = (['prometheus-ca-file', 'prometheus-cert-file', 'prometheus-key-file'] as const).filter((n) => p[n]);
  if (given.length > 0 && !p['prometheus-url'].startsWith('https:'))
    problems.push(`${given.map((n) => at[n]).join(', ')}: TLS files need an https:// ${at['prometheus-url']}`);
  return problems;
}

/**
 * The connection settings, once each option has parsed; or the problems between options, each naming the
 * options to change. `at` is where each value came from (the flag, or its variable).
 */
export function prometheusSettings(
  p: Parsed,
  at: Readonly<Record<Name, string>>,
  env: Env,
): { settings: PrometheusSettings; problems: readonly string[] } {
  const problems: string[] = [];
  const choices = authChoices(p, at, env, problems);
  if (choices.length > 1)
    problems.push(`${choices.map((c) => c.by).join(' and ')} are ${choices.length} ways to authenticate: give one`);
  problems.push(...tlsProblems(p, at));
  const orNone = (file: string) => (file === '' ? undefined : file);
  const settings: PrometheusSettings = {
    url: moveUserInfo(p['prometheus-url'], NONE).url,
    timeoutMs: p['prometheus-timeout'],
    auth: choices[0]?.auth() ?? NONE,
    tls: {
      caFile: orNone(p['prometheus-ca-file']),
      certFile: orNone(p['prometheus-cert-file']),
      keyFile: orNone(p['prometheus-key-file']),
    },
    headers: p['prometheus-header'],
  };
  return { settings, problems };
}
