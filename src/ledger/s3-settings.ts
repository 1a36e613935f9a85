/**
 * Where an S3 sink writes and as whom: the sink URL (s3://bucket/prefix) and the settings every AWS tool reads
 * from the environment. A pure function of the variables it is given, so config/ passes process.env and
 * tests pass tables.
 */
import { displayUrl } from '../controller/display-url.ts';
import type { Credentials } from './sigv4.ts';

export interface S3Settings {
  /** The S3 API's base URL; undefined means AWS's regional endpoint. */
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
}

export interface S3Location {
  readonly bucket: string;
  /** '' or a prefix ending in '/': object keys are the prefix plus the sink's keys. */
  readonly prefix: string;
}

export const DEFAULT_REGION = 'us-east-1';

type Env = Readonly<Record<string, string | undefined>>;

/** The first variable that is set and not blank. */
function first(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/**
 * AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY (both or neither is an error), AWS_SESSION_TOKEN: the static
 * credentials every AWS tool reads. `what` says who needs them. Errors name the variables, never their values
 * (a secret must not reach a log).
 */
export function awsCredentialsFromEnv(env: Env, what: string): Credentials {
  const accessKeyId = first(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = first(env, 'AWS_SECRET_ACCESS_KEY');
  if (!accessKeyId || !secretAccessKey) {
    const missing = [!accessKeyId && 'AWS_ACCESS_KEY_ID', !secretAccessKey && 'AWS_SECRET_ACCESS_KEY'].filter(Boolean);
    throw new Error(`${what} needs credentials: ${missing.join(' and ')} not set`);
  }
  return { accessKeyId, secretAccessKey, sessionToken: first(env, 'AWS_SESSION_TOKEN') };
}

/**
 * AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL; AWS_REGION, then AWS_DEFAULT_REGION, else us-east-1; the
 * credentials of awsCredentialsFromEnv.
 */
export function s3SettingsFromEnv(env: Env): S3Settings {
  const endpoint = first(env, 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL');
  if (endpoint !== undefined) checkEndpoint(endpoint);
  const { accessKeyId, secretAccessKey, sessionToken } = awsCredentialsFromEnv(env, 'an s3:// ledger');
  return {
    endpoint,
    region: first(env, 'AWS_REGION', 'AWS_DEFAULT_REGION') ?? DEFAULT_REGION,
    accessKeyId,
    secretAccessKey,
    sessionToken,
  };
}

/** An http(s) URL without query or fragment: the bucket goes into its path. */
export function checkEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new Error(`S3 endpoint "${displayUrl(endpoint)}" is not a URL`, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`S3 endpoint "${displayUrl(endpoint)}" must be an http:// or https:// URL`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new Error(`S3 endpoint "${displayUrl(endpoint)}" must not carry a query, a fragment or credentials`);
  }
  return url;
}

/** S3's bucket naming rules, the part that matters for a path-style URL: 3-63 of a-z 0-9 . - */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** 's3://bucket/some/prefix' -> { bucket: 'bucket', prefix: 'some/prefix/' }. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(url);
  if (!match?.[1]) throw new Error(`"${displayUrl(url)}" is not an s3://bucket/prefix URL`);
  const bucket = match[1];
  if (!BUCKET.test(bucket)) {
    throw new Error(`the bucket of "${displayUrl(url)}" is not a valid bucket name (3-63 of a-z, 0-9, '.' and '-')`);
  }
  const segments = (match[2] ?? '').split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw new Error(`the prefix of "${url}" has a . or .. segment`);
  return { bucket, prefix: segments.map((s) => `${s}/`).join('') };
}

/** For an s3:// ledger, its settings from `env` (after checking the URL); undefined for anything else. */
export function s3SettingsFor(ledger: string, env: Env): S3Settings | undefined {
  if (!/^s3:\/\//i.test(ledger)) return undefined;
  parseS3Url(ledger);
  return s3SettingsFromEnv(env);
}
