/** The options of the operator's own HTTP servers: metrics, probes, and how /metrics is protected. */
import { z } from 'zod';
import { bool, text, wholeNumber } from './option-schemas.ts';

export const SERVING_OPTIONS = {
  'metrics-port': {
    help: 'port of /metrics',
    env: 'AICOST_METRICS_PORT',
    default: '8080',
    schema: wholeNumber(0, 65535),
  },
  'metrics-secure': {
    // Off by default, as for leader election: a local run or the demo scrapes plain HTTP. The chart turns it on.
    help: 'serve /metrics over HTTPS only to callers the API server authenticates (TokenReview) and authorizes for get on the non-resource URL /metrics (SubjectAccessReview); the Helm chart turns it on',
    env: 'AICOST_METRICS_SECURE',
    default: 'false',
    schema: bool,
  },
  'metrics-cert-dir': {
    help: 'with --metrics-secure: directory with the serving certificate tls.crt and key tls.key (re-read when they change); none: a self-signed certificate made at start',
    env: 'AICOST_METRICS_CERT_DIR',
    default: '',
    schema: z.string(),
  },
  'health-port': {
    help: 'port of /healthz and /readyz (plain HTTP, unauthenticated)',
    env: 'AICOST_HEALTH_PORT',
    default: '8081',
    schema: wholeNumber(0, 65535),
  },
  'bind-address': {
    help: 'address the HTTP servers listen on',
    env: 'AICOST_BIND_ADDRESS',
    default: '0.0.0.0',
    schema: text(253),
  },
} as const;
