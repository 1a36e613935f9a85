/**
 * The operator's configuration, parsed once at start-up from command-line flags and AICOST_* environment
 * variables (a flag beats its variable), validated with zod, frozen, and passed down. Nothing else reads
 * process.env. An error names the flag (or the variable) it came from and quotes the bad value.
 */
import { s3SettingsFor, type S3Settings } from '../ledger/s3-settings.ts';
import { z } from 'zod';
import type { LeaderElectionOptions } from '../controller/leader-election.ts';
import { displayUrl } from '../controller/display-url.ts';
import type { PrometheusSettings } from '../measure/prometheus-connection.ts';
import { readFlags } from './read-flags.ts';
import { PROMETHEUS_OPTIONS, prometheusSettings, REPEATABLE_OPTIONS } from './prometheus-options.ts';
import { SERVING_OPTIONS } from './serving-options.ts';
import { IDLE_OWNER_OPTIONS, type IdleOwnerConfig } from './idle-owner-options.ts';
import { RECOMMEND_OPTIONS, recommendConfig, type RecommendConfig } from './recommend-options.ts';
import { leaseOrder } from './lease-order.ts';
import { LEADER_ELECTION_OPTIONS } from './leader-election-options.ts';
import * as refresh from './price-refresh-options.ts';
import { WEBHOOK_OPTIONS, webhookChecks, webhookConfig, type WebhookConfig } from './webhook-options.ts';
import { ACCOUNT_NODES_OPTIONS, type AccountNodesConfig } from './node-selector.ts';
import {
  clusterId,
  currency,
  dayDivisor,
  duration,
  offOrDuration,
  selectorLike,
  seriesSelector,
  labelKeys,
  oneOf,
  retention,
  text,
  wholeNumber,
} from './option-schemas.ts';

/** Every option: flag name, environment variable, default, and schema. The README's table is this list. */
export const OPTIONS = {
  ...PROMETHEUS_OPTIONS,
  'dcgm-selector': {
    help: 'PromQL label matchers the DCGM series must carry, e.g. job="dcgm-exporter": only those targets are trusted for utilization (empty: any series of the metric)',
    env: 'AICOST_DCGM_SELECTOR',
    default: '',
    schema: seriesSelector,
  },
  'inference-window': {
    help: 'trailing window of the cost per million tokens and per thousand requests of inference endpoints (vLLM, Triton, TGI), from 1m to 24h; 0 turns them off',
    env: 'AICOST_INFERENCE_WINDOW',
    default: '1h',
    schema: offOrDuration(60_000, 86_400_000),
  },
  'inference-selector': {
    help: 'PromQL label matchers the inference servers\' series must carry, e.g. job="vllm": only those targets are trusted for tokens and requests (empty: any series of the metrics)',
    env: 'AICOST_INFERENCE_SELECTOR',
    default: '',
    schema: selectorLike('job="vllm"'),
  },
  interval: {
    help: 'accounting interval: cost accrues and utilization is measured once per interval',
    env: 'AICOST_INTERVAL',
    default: '60s',
    schema: duration(1000, 3_600_000),
  },
  'label-keys': {
    help: 'pod label keys to roll costs up by (at most 10)',
    env: 'AICOST_LABEL_KEYS',
    default: 'team,project,model,experiment,environment',
    schema: labelKeys(10),
  },
  ...IDLE_OWNER_OPTIONS,
  ...ACCOUNT_NODES_OPTIONS,
  'pricing-file': {
    help: 'custom pricing YAML (docs/pricing.md); re-read when it changes',
    env: 'AICOST_PRICING_FILE',
    default: '',
    schema: z.string(),
  },
  currency: {
    help: "ISO 4217 currency; overrides the pricing file's",
    env: 'AICOST_CURRENCY',
    default: '',
    schema: currency,
  },
  ...refresh.PRICE_REFRESH_OPTIONS,
  'idle-threshold': {
    help: 'GPU utilization percent under which a sample counts as idle',
    env: 'AICOST_IDLE_THRESHOLD',
    default: '5',
    schema: wholeNumber(0, 100),
  },
  'min-coverage': {
    help: 'percent of the window DCGM samples must cover, else utilization is unknown',
    env: 'AICOST_MIN_COVERAGE',
    default: '60',
    schema: wholeNumber(1, 100),
  },
  'scrape-interval': {
    help: 'DCGM sample spacing to assume when a series has one sample',
    env: 'AICOST_SCRAPE_INTERVAL',
    default: '15s',
    schema: duration(1000, 600_000),
  },
  'annotate-interval': {
    help: 'shortest time between two annotation writes to one object',
    env: 'AICOST_ANNOTATE_INTERVAL',
    default: '5m',
    schema: duration(0, 86_400_000),
  },
  'write-qps': {
    help: 'annotation patches per second, at most',
    env: 'AICOST_WRITE_QPS',
    default: '20',
    schema: wholeNumber(1, 1000),
  },
  'write-burst': {
    help: 'annotation patches in a burst, at most',
    env: 'AICOST_WRITE_BURST',
    default: '50',
    schema: wholeNumber(1, 10_000),
  },
  ...SERVING_OPTIONS,
  ...LEADER_ELECTION_OPTIONS,
  namespace: {
    help: "the operator's own namespace (never acted on)",
    env: 'AICOST_NAMESPACE',
    default: 'aicost-system',
    schema: text(63),
  },
  identity: {
    help: "this replica's name in the Lease (default: hostname-pid)",
    env: 'AICOST_IDENTITY',
    default: '',
    schema: text(128, true),
  },
  'metrics-cardinality-limit': {
    help: 'series per workload/label metric before new ones fold into __overflow__',
    env: 'AICOST_METRICS_CARDINALITY_LIMIT',
    default: '2000',
    schema: wholeNumber(10, 100_000),
  },
  'default-mode': {
    help: 'mode of policies that set no spec.mode: Audit (record only) or Enforce',
    env: 'AICOST_DEFAULT_MODE',
    default: 'Audit',
    schema: oneOf(['Audit', 'Enforce']),
  },
  ...WEBHOOK_OPTIONS,
  ledger: {
    help: 'where the durable cost ledger is written: a directory (created if missing) or s3://bucket/prefix',
    env: 'AICOST_LEDGER',
    default: '.aicost/ledger',
    schema: text(1024),
  },
  'ledger-window': {
    help: 'length of a ledger window (one row per workload and window); must divide a day',
    env: 'AICOST_LEDGER_WINDOW',
    default: '1h',
    schema: dayDivisor(60_000, 86_400_000),
  },
  'ledger-flush-interval': {
    help: "how often the open window's rows are written to the ledger (and at each window's end); a kill loses at most this much measured utilization, never cost",
    env: 'AICOST_LEDGER_FLUSH_INTERVAL',
    default: '60s',
    schema: duration(0, 3_600_000),
  },
  'ledger-retention': {
    help: "date partitions of this cluster's ledger older than this are deleted (by the leader, once a day); 0 keeps them forever",
    env: 'AICOST_LEDGER_RETENTION',
    default: '400d',
    schema: retention(36_500),
  },
  ...RECOMMEND_OPTIONS,
  'cluster-id': {
    help: "this cluster's id in the ledger (default: the kube-system namespace's uid)",
    env: 'AICOST_CLUSTER_ID',
    default: '',
    schema: clusterId,
  },
  'log-level': {
    help: 'trace, debug, info, warn, error or fatal',
    env: 'AICOST_LOG_LEVEL',
    default: 'info',
    schema: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
  },
} as const;

type Options = typeof OPTIONS;
type Parsed = { readonly [K in keyof Options]: z.output<Options[K]['schema']> };

export interface Config extends IdleOwnerConfig, RecommendConfig, AccountNodesConfig {
  /** PromQL label matchers every DCGM query carries; '' for none. */
  readonly dcgmSelector: string;
  /** Trailing window of the unit costs (src/cost/unit-cost.ts); 0: off. */
  readonly inferenceWindowMs: number;
  /** PromQL label matchers every inference query carries; '' for none. */
  readonly inferenceSelector: string;
  /** Where Prometheus is and how to reach it (credentials, TLS files, headers); its URL has no user info. */
  readonly prometheus: PrometheusSettings;
  readonly intervalMs: number;
  readonly labelKeys: readonly string[];
  readonly pricingFile: string | undefined;
  /** Overrides the pricing file's currency when set. */
  readonly currency: string | undefined;
  /** Undefined when prices are not refreshed from the clouds (the default). */
  readonly priceRefresh: refresh.PriceRefreshConfig | undefined;
  /** Ratio 0..1 under which a GPU sample counts as idle. */
  readonly idleThreshold: number;
  /** Ratio 0..1 of the window metrics must cover to count. */
  readonly minCoverage: number;
  readonly scrapeIntervalMs: number;
  readonly annotateIntervalMs: number;
  readonly writeQps: number;
  readonly writeBurst: number;
  readonly metricsPort: number;
  /** Undefined: /metrics is plain HTTP, open to anyone who reaches the port. */
  readonly metricsSecure: { readonly certDir: string | undefined } | undefined;
  readonly healthPort: number;
  readonly bindAddress: string;
  readonly leaderElection: LeaderElectionOptions & { readonly enabled: boolean };
  readonly namespace: string;
  readonly metricsCardinalityLimit: number;
  readonly logLevel: string;
  readonly defaultMode: 'Audit' | 'Enforce';
  /** What the process runs: the whole operator (`aicost run`), or only the admission webhook (`aicost webhook`). */
  readonly role: Role;
  /** Undefined when the webhook is off. */
  readonly webhook: WebhookConfig | undefined;
  readonly spotConventions: 'all' | 'observed';
  /** A directory or s3://bucket/prefix (src/ledger/open-sink.ts). */
  readonly ledger: string;
  /** For an s3:// ledger: endpoint, region and credentials from the AWS_* variables (src/ledger/s3-settings.ts). */
  readonly ledgerS3: S3Settings | undefined;
  readonly ledgerWindowMs: number;
  /** 0: every cycle. */
  readonly ledgerFlushMs: number;
  /** 0: keep the ledger forever. */
  readonly ledgerRetentionMs: number;
  /** Undefined: the kube-system namespace's uid, read once at start. */
  readonly clusterId: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Name = keyof Options;
export type Role = 'operator' | 'webhook';

/** The checks between options, once each has parsed; each problem is named by the option to change. */
function crossChecks(p: Parsed, raw: Record<Name, string>, origin: Record<Name, string>, role: Role): string[] {
  const problems = leaseOrder(p, raw, origin);
  if (p['metrics-secure'] && p['metrics-port'] === p['health-port'] && p['metrics-port'] !== 0)
    problems.push(
      `${origin['metrics-secure']}: secure /metrics needs a port of its own, but ${origin['metrics-port']} and ` +
        `${origin['health-port']} are both ${p['metrics-port']} (the probes stay plain HTTP)`,
    );
  if (!p['metrics-secure'] && p['metrics-cert-dir'] !== '')
    problems.push(`${origin['metrics-cert-dir']}: has no effect without --metrics-secure true`);
  problems.push(...webhookChecks(p, raw, origin, role));
  return problems;
}

/**
 * Parses flags over AICOST_* variables over defaults. A ConfigError has one line per problem,
 * `<origin>: <what is wrong with the value>`, where origin is the flag, or the variable the value came from.
 */
export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  hostname: string,
  role: Role = 'operator',
): Config {
  const flags = readFlags<Name>(argv, Object.keys(OPTIONS) as Name[], REPEATABLE_OPTIONS);
  if (flags.problems.length > 0) throw new ConfigError(flags.problems.join('\n'));
  const raw = {} as Record<Name, string>;
  const origin = {} as Record<Name, string>;
  for (const name of Object.keys(OPTIONS) as Name[]) {
    const option = OPTIONS[name];
    const fromFlag = flags.values[name];
    const fromEnv = env[option.env];
    raw[name] = fromFlag ?? fromEnv ?? option.default;
    origin[name] = fromFlag === undefined && fromEnv !== undefined ? option.env : `--${name}`;
  }
  const shape = Object.fromEntries(Object.entries(OPTIONS).map(([name, option]) => [name, option.schema])) as {
    [K in Name]: Options[K]['schema'];
  };
  const result = z.object(shape).safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${origin[issue.path[0] as Name]}: ${issue.message}`);
    throw new ConfigError(lines.join('\n'), { cause: result.error });
  }
  const p = result.data as Parsed;
  const prometheus = prometheusSettings(p, origin, env);
  const problems = [
    ...crossChecks(p, raw, origin, role),
    ...refresh.priceRefreshChecks(p, origin, env),
    ...prometheus.problems,
  ];
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return toConfig(p, hostname, env, prometheus.settings, role);
}

/** The AWS_* settings of an s3:// ledger, read once here; undefined for a directory. */
function ledgerS3Settings(ledger: string, env: Readonly<Record<string, string | undefined>>): S3Settings | undefined {
  try {
    return s3SettingsFor(ledger, env);
  } catch (error) {
    throw new ConfigError(`--ledger ${displayUrl(ledger)}: ${(error as Error).message}`);
  }
}

function toConfig(
  p: Parsed,
  hostname: string,
  env: Readonly<Record<string, string | undefined>>,
  prometheus: PrometheusSettings,
  role: Role,
): Config {
  return Object.freeze({
    role,
    prometheus,
    dcgmSelector: p['dcgm-selector'],
    inferenceWindowMs: p['inference-window'],
    inferenceSelector: p['inference-selector'],
    intervalMs: p.interval,
    labelKeys: Object.freeze([...p['label-keys']]),
    idleOwnerLabel: p['idle-owner-label'] || undefined,
    accountNodes: p['account-nodes'],
    pricingFile: p['pricing-file'] || undefined,
    currency: p.currency || undefined,
    priceRefresh: refresh.priceRefreshConfig(p, env),
    idleThreshold: p['idle-threshold'] / 100,
    minCoverage: p['min-coverage'] / 100,
    scrapeIntervalMs: p['scrape-interval'],
    annotateIntervalMs: p['annotate-interval'],
    writeQps: p['write-qps'],
    writeBurst: p['write-burst'],
    metricsPort: p['metrics-port'],
    metricsSecure: p['metrics-secure'] ? Object.freeze({ certDir: p['metrics-cert-dir'] || undefined }) : undefined,
    healthPort: p['health-port'],
    bindAddress: p['bind-address'],
    leaderElection: Object.freeze({
      enabled: p['leader-elect'],
      namespace: p['leader-election-namespace'] || p.namespace,
      name: p['leader-election-id'],
      identity: p.identity || `${hostname}-${process.pid}`,
      leaseDurationMs: p['lease-duration'],
      renewDeadlineMs: p['renew-deadline'],
      retryPeriodMs: p['retry-period'],
    }),
    namespace: p.namespace,
    metricsCardinalityLimit: p['metrics-cardinality-limit'],
    logLevel: p['log-level'],
    defaultMode: p['default-mode'],
    webhook: webhookConfig(p),
    spotConventions: p['spot-conventions'],
    ledger: p.ledger,
    ledgerS3: ledgerS3Settings(p.ledger, env),
    ledgerWindowMs: p['ledger-window'],
    ledgerFlushMs: p['ledger-flush-interval'],
    ledgerRetentionMs: p['ledger-retention'],
    clusterId: p['cluster-id'] || undefined,
    ...recommendConfig(p),
  });
}

/** Reads the process's arguments and environment: the only place the operator touches process.env. */
export function loadConfig(argv: readonly string[], hostname: string, role: Role = 'operator'): Config {
  return parseConfig(argv, process.env, hostname, role);
}
