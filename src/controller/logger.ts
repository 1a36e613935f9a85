/**
 * The operator's logger. URLs are logged in their display form (display-url.ts) and credentials are never
 * passed to a log call; pino's redaction is the second line behind that: should a credential-bearing object
 * be logged one day (an options object, a request's headers), these paths come out as [Redacted].
 */
import { pino, type DestinationStream, type Logger } from 'pino';

/** Keys that hold a secret, at the top of a logged object and one or two levels down. */
const SECRET_KEYS = [
  'password',
  'token',
  'bearerToken',
  'authorization',
  'secretAccessKey',
  'sessionToken',
  'privateKey',
  'credentials',
];

export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export function createLogger(
  options: { readonly level: string; readonly identity: string },
  destination?: DestinationStream,
): Logger {
  const settings = { level: options.level, base: { identity: options.identity }, redact: [...REDACT_PATHS] };
  return destination ? pino(settings, destination) : pino(settings);
}
