/**
 * The spot admission webhook's options: its port and certificate, the spot labels it steers by, and the limits
 * on what a caller can make its server hold (src/controller/webhook-server.ts). Part of OPTIONS in config.ts.
 */
import { z } from 'zod';
import type { WebhookLimits } from '../controller/webhook-server.ts';
import { byteSize, duration, formatBytes, oneOf, quote, wholeNumber } from './option-schemas.ts';

export const WEBHOOK_OPTIONS = {
  'webhook-port': {
    help: 'port of the spot admission webhook (HTTPS); 0 turns the webhook off',
    env: 'AICOST_WEBHOOK_PORT',
    default: '0',
    schema: wholeNumber(0, 65535),
  },
  'webhook-cert-dir': {
    help: 'directory with the webhook serving certificate tls.crt and key tls.key (re-read when they change)',
    env: 'AICOST_WEBHOOK_CERT_DIR',
    default: '',
    schema: z.string(),
  },
  'spot-conventions': {
    help: "spot labels the webhook steers by: all (every cloud's) or observed (those on the cluster's nodes)",
    env: 'AICOST_SPOT_CONVENTIONS',
    default: 'all',
    schema: oneOf(['all', 'observed']),
  },
  'webhook-max-body': {
    help: 'largest request body the webhook reads (the API server sends at most 3Mi); larger is refused with 413',
    env: 'AICOST_WEBHOOK_MAX_BODY',
    default: '3Mi',
    schema: byteSize(64 * 1024, 64 * 2 ** 20),
  },
  'webhook-max-in-flight': {
    help: 'bytes of request bodies the webhook holds at once, all requests together; a request that would pass it is refused with 503',
    env: 'AICOST_WEBHOOK_MAX_IN_FLIGHT',
    default: '32Mi',
    schema: byteSize(64 * 1024, 2 ** 30),
  },
  'webhook-read-timeout': {
    help: "the TLS handshake, then each request's headers and body, must arrive within this, else the connection is cut; keep it under the webhook configuration's timeoutSeconds",
    env: 'AICOST_WEBHOOK_READ_TIMEOUT',
    default: '2s',
    schema: duration(100, 30_000),
  },
  'webhook-idle-timeout': {
    help: 'an idle keep-alive connection to the webhook is closed after this (longer than Go clients keep one idle, so the API server never reuses a connection being closed)',
    env: 'AICOST_WEBHOOK_IDLE_TIMEOUT',
    default: '120s',
    schema: duration(1000, 600_000),
  },
  'webhook-max-connections': {
    help: 'connections the webhook keeps open at once; more are closed as they are accepted',
    env: 'AICOST_WEBHOOK_MAX_CONNECTIONS',
    default: '256',
    schema: wholeNumber(1, 100_000),
  },
} as const;

type Options = typeof WEBHOOK_OPTIONS;
type Name = keyof Options;
type Parsed = { readonly [K in Name]: z.output<Options[K]['schema']> };

export interface WebhookConfig {
  readonly port: number;
  readonly certDir: string;
  readonly limits: WebhookLimits;
}

/** The checks between the webhook's options, each problem named by the option to change. */
export function webhookChecks(
  p: Parsed,
  raw: Readonly<Record<Name, string>>,
  origin: Readonly<Record<Name, string>>,
  role: 'operator' | 'webhook',
): string[] {
  const problems: string[] = [];
  if (role === 'webhook' && p['webhook-port'] === 0)
    problems.push(
      `${origin['webhook-port']}: ${quote(raw['webhook-port'])} turns the webhook off, and the webhook command ` +
        'serves nothing else: give it a port (the chart uses 9443)',
    );
  if (p['webhook-port'] > 0 && p['webhook-cert-dir'] === '')
    problems.push(
      `${origin['webhook-port']}: ${quote(raw['webhook-port'])} turns the webhook on, which needs ` +
        `${origin['webhook-cert-dir']} (make one with "aicost webhook-cert --dir DIR")`,
    );
  if (p['webhook-max-in-flight'] < p['webhook-max-body'])
    problems.push(
      `${origin['webhook-max-in-flight']}: ${quote(raw['webhook-max-in-flight'])} is less than ` +
        `${origin['webhook-max-body']}, ${quote(formatBytes(p['webhook-max-body']))}: a body of that size could never be read`,
    );
  return problems;
}

/** The webhook's settings, or undefined when it is off. */
export function webhookConfig(p: Parsed): WebhookConfig | undefined {
  if (p['webhook-port'] === 0) return undefined;
  return Object.freeze({
    port: p['webhook-port'],
    certDir: p['webhook-cert-dir'],
    limits: Object.freeze({
      maxBodyBytes: p['webhook-max-body'],
      maxInFlightBytes: p['webhook-max-in-flight'],
      readTimeoutMs: p['webhook-read-timeout'],
      idleTimeoutMs: p['webhook-idle-timeout'],
      maxConnections: p['webhook-max-connections'],
    }),
  });
}
