/**
 * The Helm chart's values, as one zod schema: scripts/generate-crds.ts renders it to
 * deploy/helm/aicost-operator/values.schema.json (checked for drift), so `helm install` rejects a wrong type, an
 * unknown key or a bad duration with a message naming the value. Defaults live in values.yaml (documented line
 * by line); a test checks that values.yaml itself passes this schema.
 */
import { SERIES_SELECTOR } from '../config/option-schemas.ts';
import { z } from 'zod';

const duration = z
  .string()
  .regex(/^([0-9]+(ms|s|m|h))+$/)
  .meta({ description: 'A duration such as 30s, 5m or 1h.' });
/** A duration Prometheus takes as an alert's `for`: one unit only, since it refuses units out of order (30m1h). */
const ruleDuration = z
  .string()
  .regex(/^[0-9]+(ms|s|m|h)$/)
  .meta({ description: 'A number and one unit: 0s, 90s, 5m or 1h.' });
const labelKey = z.string().regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
const strings = z.record(z.string(), z.string());
/** The name of a Secret or ConfigMap in the release namespace, or empty for none. */
const resourceName = z.union([
  z.literal(''),
  z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    .max(253),
]);
/** An RBAC subject: a ServiceAccount (with its namespace), a User or a Group. */
const rbacSubject = z.union([
  z.strictObject({ kind: z.literal('ServiceAccount'), name: z.string().min(1), namespace: z.string().min(1) }),
  z.strictObject({ kind: z.enum(['User', 'Group']), name: z.string().min(1), apiGroup: z.string().optional() }),
]);
/** Kubernetes objects the chart passes through as they are (affinity, resources, securityContext...). */
const passThrough = z.record(z.string(), z.unknown());
/** A DNS-1123 subdomain: the name of a PersistentVolumeClaim or a StorageClass. */
const objectName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

const ledgerPersistence = z.strictObject({
  enabled: z.boolean(),
  existingClaim: z.union([z.literal(''), objectName]),
  storageClassName: z.union([z.literal(''), z.literal('-'), objectName]),
  accessModes: z.array(z.enum(['ReadWriteOnce', 'ReadWriteOncePod', 'ReadWriteMany'])).min(1),
  size: z
    .string()
    .regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/)
    .meta({ description: 'A storage quantity such as 10Gi.' }),
  keep: z.boolean().meta({ description: 'Keep the claim on helm uninstall (helm.sh/resource-policy: keep).' }),
});

export const chartValuesSchema = z.strictObject({
  image: z.strictObject({
    repository: z.string().min(1),
    tag: z.string(),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  }),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })),
  nameOverride: z.string(),
  fullnameOverride: z.string(),
  replicaCount: z.int().min(1).max(10),
  strategy: z.strictObject({
    type: z.enum(['RollingUpdate', 'Recreate']),
    rollingUpdate: z
      .strictObject({ maxSurge: z.union([z.int(), z.string()]), maxUnavailable: z.union([z.int(), z.string()]) })
      .partial()
      .optional(),
  }),
  prometheus: z.strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .regex(/^https?:\/\/[^/?#@]*([/?#].*)?$/)
      .meta({ description: 'An http(s) URL without user info (use basicAuth: the URL is in the pod spec).' }),
    dcgmSelector: z
      .string()
      .regex(SERIES_SELECTOR)
      .or(z.literal(''))
      .meta({ description: 'PromQL label matchers of the trusted DCGM exporter series (--dcgm-selector).' }),
    inferenceSelector: z
      .string()
      .regex(SERIES_SELECTOR)
      .or(z.literal(''))
      .meta({ description: "PromQL label matchers of the trusted inference servers' series (--inference-selector)." }),
    headers: z
      // eslint-disable-next-line no-control-regex -- control characters are what is refused (\x: Go's regexp, which Helm uses, has no \u)
      .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string().regex(/^[^\x00-\x1f\x7f]*$/))
      .meta({ description: 'Headers sent with every query, e.g. X-Scope-OrgID (--prometheus-header).' }),
    basicAuth: z.strictObject({ username: z.string(), passwordSecret: resourceName }),
    bearerToken: z.strictObject({ secret: resourceName, serviceAccountAudience: z.string() }),
    tls: z.strictObject({ caConfigMap: resourceName, caSecret: resourceName, clientCertSecret: resourceName }),
    sigv4: z.strictObject({
      region: z.union([z.literal(''), z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/)]),
      credentialsSecret: resourceName,
    }),
  }),
  accounting: z.strictObject({
    interval: duration,
    labelKeys: z.array(labelKey).max(10),
    idleOwnerLabel: z
      .union([z.literal(''), labelKey])
      .meta({ description: "Node label whose value owns a node's idle cost (--idle-owner-label); empty: off." }),
    currency: z.union([z.literal(''), z.string().regex(/^[A-Z]{3}$/)]),
    annotateInterval: duration,
    inferenceWindow: z
      .union([z.literal(''), z.literal('0'), duration])
      .meta({ description: "Unit costs' trailing window (--inference-window); 0: off; empty: the operator's 1h." }),
    accountNodes: z
      .string()
      .regex(/^[^\n"]*$/)
      .meta({ description: 'Label selector of the nodes accounted (--account-nodes); empty: every node.' }),
  }),
  recommendations: z.strictObject({
    interval: z.union([z.literal(''), z.literal('0'), duration]).meta({
      description: "How often recommendations are computed (--recommend-interval); 0: off; empty: the operator's 1h.",
    }),
    window: z.union([z.literal(''), duration]).meta({
      description: "The data a workload's recommendation stands on (--recommend-window); empty: the operator's 24h.",
    }),
    emptyAfter: z
      .union([z.literal(''), duration])
      .meta({ description: 'How long a GPU node is empty before it is flagged (--recommend-empty-after); empty: 2h.' }),
  }),
  pricing: z.strictObject({
    custom: passThrough.meta({ description: 'A pricing file (docs/pricing.md); empty: the built-in catalog.' }),
  }),
  policy: z.strictObject({ defaultMode: z.enum(['Audit', 'Enforce']) }),
  webhook: z.strictObject({
    enabled: z.boolean(),
    failurePolicy: z.enum(['Ignore', 'Fail']),
    timeoutSeconds: z.int().min(1).max(30),
    spotConventions: z.enum(['all', 'observed']),
    separateDeployment: z
      .boolean()
      .meta({ description: 'Serve admission from a Deployment of its own (aicost webhook), not the operator.' }),
    replicaCount: z.int().min(1).max(10),
    resources: passThrough,
    excludeNamespaces: z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)),
    certificate: z.strictObject({
      source: z.enum(['generated', 'certManager', 'secret']),
      validityDays: z.int().min(1).max(3650),
      certManager: z.strictObject({
        issuerRef: z.union([
          z.strictObject({}),
          z.strictObject({
            name: z.string().min(1),
            kind: z.enum(['Issuer', 'ClusterIssuer']),
            group: z.string().optional(),
          }),
        ]),
      }),
      secretName: z.string(),
      caBundle: z.string(),
    }),
  }),
  crds: z.strictObject({ enabled: z.boolean(), keep: z.boolean() }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
  extraArgs: z.array(z.string().regex(/^--[a-z-]+=/)),
  resources: passThrough,
  podSecurityContext: passThrough,
  securityContext: passThrough,
  serviceAccount: z.strictObject({ create: z.boolean(), name: z.string(), annotations: strings }),
  podAnnotations: strings,
  podLabels: strings,
  nodeSelector: strings,
  tolerations: z.array(passThrough),
  affinity: passThrough,
  priorityClassName: z.string(),
  topologySpread: z.strictObject({ enabled: z.boolean() }),
  podDisruptionBudget: z.strictObject({ enabled: z.boolean() }),
  metrics: z.strictObject({
    secure: z
      .boolean()
      .meta({ description: '/metrics over HTTPS behind TokenReview and SubjectAccessReview (--metrics-secure).' }),
    certSecret: z.string().meta({ description: 'A kubernetes.io/tls Secret; empty: self-signed at start.' }),
    readerSubjects: z.array(rbacSubject).meta({ description: 'Subjects bound to the metrics-reader ClusterRole.' }),
  }),
  serviceMonitor: z.strictObject({
    enabled: z.boolean(),
    interval: duration,
    labels: strings,
    authorizationSecret: z.union([
      z.strictObject({}),
      z.strictObject({ name: z.string().min(1), key: z.string().min(1) }),
    ]),
    tlsConfig: passThrough.meta({ description: 'The scrape TLS settings with metrics.secure (SafeTLSConfig).' }),
  }),
  prometheusRule: z.strictObject({
    enabled: z.boolean().meta({ description: "A PrometheusRule with the operator's alerts (monitoring.coreos.com)." }),
    labels: strings,
    alertLabels: z
      .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string())
      .meta({ description: 'Labels added to every alert.' }),
    budgetLevels: z
      .array(z.strictObject({ percent: z.int().min(1).max(1000), severity: z.string().regex(/^[a-z]+$/) }))
      .min(1)
      .max(10)
      .meta({ description: 'AICostBudgetSpent: percent of the budget spent and its severity, ascending.' }),
    for: z.strictObject({
      budget: ruleDuration,
      forecast: ruleDuration,
      anomaly: ruleDuration,
      unpricedNodes: ruleDuration,
      gpuMetrics: ruleDuration,
      accountingStalled: ruleDuration,
      ledgerWriteErrors: ruleDuration,
    }),
  }),
  networkPolicy: z.strictObject({
    enabled: z.boolean(),
    metricsFrom: z
      .strictObject({ namespaceSelector: passThrough, podSelector: passThrough })
      .meta({ description: 'The pods (and their namespaces) allowed to reach the metrics port.' }),
    probesFromAnywhere: z.boolean(),
  }),
  ledger: z.strictObject({
    retention: z
      .union([z.literal(0), z.string().regex(/^(0|[1-9][0-9]*d)$/)])
      .meta({ description: 'Whole days such as 400d, or 0 to keep the ledger forever (--ledger-retention).' }),
    persistence: ledgerPersistence,
    s3: z.strictObject({
      bucketUrl: z.union([z.literal(''), z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/)]),
      endpoint: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]),
      region: z.string(),
      credentialsSecret: z.string(),
    }),
  }),
  operatorKeysPolicy: z.strictObject({
    enabled: z.boolean().meta({
      description:
        'ValidatingAdmissionPolicies: only the operator writes its aicost.dev/ annotations and the Events it reports.',
    }),
  }),
  operatorWritesPolicy: z.strictObject({
    enabled: z.boolean().meta({
      description: "A ValidatingAdmissionPolicy: the operator's service account may change only what it needs to.",
    }),
  }),
  grafanaDashboard: z.strictObject({
    enabled: z.boolean(),
    labelKey: z.string().min(1),
    labelValue: z.string(),
    namespace: z.string(),
  }),
});

export type ChartValues = z.output<typeof chartValuesSchema>;

/**
 * Rules between values, in JSON Schema (if/then) because that is what Helm checks. A ledger on a
 * PersistentVolumeClaim has one writer: one replica, replaced by Recreate (a rolling update would start the new
 * pod while the old one still holds the volume), and no bucket beside it. Helm names each value to change:
 * `at '/replicaCount': value must be 1`, `at '/strategy/type': value must be 'Recreate'`.
 */
export const CROSS_RULES: readonly Record<string, unknown>[] = [
  {
    if: path(['ledger', 'persistence', 'enabled'], { const: true }),
    then: {
      properties: {
        replicaCount: { const: 1 },
        strategy: { properties: { type: { const: 'Recreate' } } },
        ledger: { properties: { s3: { properties: { bucketUrl: { const: '' } } } } },
      },
    },
  },
];

/** A schema that holds when the value at `keys` is present and satisfies `leaf`. */
function path(keys: readonly string[], leaf: Record<string, unknown>): Record<string, unknown> {
  return keys.reduceRight((inner, key) => ({ required: [key], properties: { [key]: inner } }), leaf);
}

/** JSON Schema (draft-07, which Helm 3 validates) of the values. */
export function renderValuesSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(chartValuesSchema, { target: 'draft-7', io: 'input', unrepresentable: 'throw' });
  return { ...schema, allOf: CROSS_RULES, title: 'aicost-operator chart values' };
}
