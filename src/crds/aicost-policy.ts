/**
 * AICostPolicy (aicost.dev/v1alpha1, cluster-scoped): the one schema that gives the TypeScript types, the
 * runtime parsing of policies read from the API, and the CRD's OpenAPI schema with its CEL rules
 * (scripts/generate-crds.ts writes deploy/crds/; `npm run verify` fails when the committed YAML drifts).
 *
 * API conventions (Kubernetes, Kueue): no floats (percentages are integers, money is a decimal string),
 * durations as strings ("30m"), every string and list bounded, conditions with observedGeneration, no phase.
 */
import { z } from 'zod';
import { recommendationsRule, recommendationsStatusSchema } from './recommendations-schema.ts';

const DURATION = '^([0-9]+(ms|s|m|h|d))+$';
const MONEY = '^[0-9]{1,12}(\\.[0-9]{1,6})?$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
const QUALIFIED_NAME = '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';
// Five cron fields of digits, *, /, -, and commas, or a macro such as @daily.
const CRON =
  '^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9*/,-]+|[A-Za-z]{3}(-[A-Za-z]{3})?)( ([0-9*/,-]+|[A-Za-z]{3}(-[A-Za-z]{3})?)){4})$';

const duration = (description: string) =>
  z.string().max(32).regex(new RegExp(DURATION), 'must be a duration such as 30s, 15m or 1h').meta({ description });
const percent = (description: string) => z.int().min(0).max(100).meta({ description });
const mode = z.enum(['Audit', 'Enforce']);

const TIME_ZONE = /^[A-Za-z][A-Za-z0-9_+/-]*$/;
const timeZone = (description: string) => z.string().max(64).regex(TIME_ZONE).default('UTC').meta({ description });
const timestamp = (description: string) => z.string().max(64).meta({ description });
const money = (description: string) => z.string().max(32).meta({ description });

const labelSelectorRequirement = z.strictObject({
  key: z.string().max(317).regex(new RegExp(QUALIFIED_NAME)),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z
    .array(z.string().max(63).regex(new RegExp(LABEL_VALUE)))
    .max(64)
    .optional(),
});

export const labelSelectorSchema = z
  .strictObject({
    matchLabels: z
      .record(z.string().max(317).regex(new RegExp(QUALIFIED_NAME)), z.string().max(63).regex(new RegExp(LABEL_VALUE)))
      .optional(),
    matchExpressions: z.array(labelSelectorRequirement).max(32).optional(),
  })
  .meta({ description: 'A Kubernetes label selector. An empty selector matches everything.' });
export type LabelSelector = z.output<typeof labelSelectorSchema>;

const idleGpuRule = z
  .strictObject({
    mode: mode.optional().meta({ description: 'Overrides spec.mode for this rule.' }),
    utilizationThreshold: percent('GPU utilization (percent) under which a workload counts as idle.').default(5),
    idleAfter: duration(
      'How long a workload must stay under the threshold, with metric coverage, before it is idle.',
    ).default('1h'),
    gracePeriod: duration('Time between the warning (Event and aicost.dev/idle-since) and the action.').default('15m'),
    minCoverage: percent('Share of the idle window DCGM samples must cover; less is unknown, never idle.').default(80),
    respectDoNotDisrupt: z
      .boolean()
      .default(true)
      .meta({ description: 'Leave workloads annotated karpenter.sh/do-not-disrupt: "true" alone.' }),
  })
  .meta({ description: 'Idle-GPU shutdown: scale Deployments/StatefulSets to zero, suspend Jobs, evict bare Pods.' });

const wakeSchedule = z
  .strictObject({
    wake: z
      .string()
      .max(100)
      .regex(new RegExp(CRON), 'must be a cron expression of five fields')
      .meta({ description: 'Cron (five fields) at which sleeping endpoints are woken.' }),
    sleep: z
      .string()
      .max(100)
      .regex(new RegExp(CRON), 'must be a cron expression of five fields')
      .meta({ description: 'Cron (five fields) at which endpoints are put to sleep whatever their activity.' })
      .optional(),
    timeZone: timeZone('IANA time zone of the cron expressions, e.g. Europe/Paris.'),
  })
  .meta({ description: 'Working hours for dev endpoints.' });

const scaleToZeroRule = z
  .strictObject({
    mode: mode.optional().meta({ description: 'Overrides spec.mode for this rule.' }),
    idleAfter: duration('How long an endpoint must see no GPU activity (and no requests) before it sleeps.').default(
      '30m',
    ),
    utilizationThreshold: percent('GPU utilization (percent) that counts as activity.').default(5),
    minCoverage: percent('Share of the idle window DCGM samples must cover.').default(80),
    requestsQuery: z.string().min(1).max(1024).optional().meta({
      description:
        'PromQL giving the request rate of one endpoint; $namespace and $name are substituted. Any rate above zero is activity.',
    }),
    schedule: wakeSchedule.optional(),
  })
  .meta({ description: 'Scale idle dev inference Deployments to zero and wake them on demand or on a schedule.' });

const spotRule = z
  .strictObject({
    mode: mode.optional().meta({ description: 'Overrides spec.mode for this rule.' }),
    placement: z.enum(['Preferred', 'Required', 'Forbidden']).meta({
      description: 'Steer matched pods onto spot capacity (Preferred, Required) or keep them off it (Forbidden).',
    }),
    requireCheckpoint: z.boolean().default(true).meta({
      description: 'Only pods that declare checkpointing (aicost.dev/checkpoint-path and -interval) go to spot.',
    }),
    maxCheckpointInterval: duration('Longest checkpoint interval accepted for spot (30m when not set).').optional(),
  })
  .meta({
    description: 'Spot placement with a checkpoint contract.',
    'x-kubernetes-validations': [
      {
        rule: '!has(self.maxCheckpointInterval) || self.requireCheckpoint',
        message: 'maxCheckpointInterval needs requireCheckpoint: true',
      },
    ],
  });

const UTC_TIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$';
const utcTime = (description: string) =>
  z
    .string()
    .max(20)
    .regex(new RegExp(UTC_TIME), 'must be a UTC time such as 2026-12-01T18:00:00Z')
    .meta({ description });

const anomalyRule = z
  .strictObject({
    enabled: z.boolean().default(true).meta({ description: 'Whether spend anomalies give Events and alerts.' }),
    factor: z
      .string()
      .max(20)
      .regex(new RegExp(MONEY), 'must be a decimal such as "2" or "2.5"')
      .default('2')
      .meta({ description: "The last hour's spend over its baseline above which the hour is anomalous." }),
    minimumPerHour: z
      .string()
      .max(20)
      .regex(new RegExp(MONEY), 'must be a decimal amount such as "1.00"')
      .default('1')
      .meta({
        description:
          'A floor under the baseline, in the currency per hour: a scope that spends cents is not flagged for a dollar.',
      }),
    planned: z
      .array(
        z
          .strictObject({
            start: utcTime('Start of the planned run (RFC 3339, UTC).'),
            end: utcTime('End of the planned run, exclusive.'),
            reason: z.string().max(256).optional().meta({ description: 'What the run is, for people.' }),
          })
          .meta({
            'x-kubernetes-validations': [
              { rule: 'timestamp(self.end) > timestamp(self.start)', message: 'end must be after start' },
            ],
          }),
      )
      .max(20)
      .default([])
      .meta({ description: 'Planned large runs declared ahead: no anomaly is raised while one is under way.' }),
  })
  .meta({
    description:
      "Spend anomalies: the last hour's spend of the budget's scope above factor times its baseline (the same hour of the week over the last weeks, else the median of its last 24 hours). On by default.",
    'x-kubernetes-validations': [{ rule: "self.factor.matches('[1-9]')", message: 'factor must be more than zero' }],
  });

const budgetRule = z
  .strictObject({
    amount: z
      .string()
      .max(20)
      .regex(new RegExp(MONEY), 'must be a decimal amount such as "1500.00"')
      .meta({ description: "Spend limit per period, a decimal string in the operator's currency (status.currency)." }),
    period: z.enum(['Weekly', 'Monthly']).default('Monthly').meta({
      description: 'Weekly periods start on Monday at 00:00, monthly ones on the 1st at 00:00, in timeZone.',
    }),
    timeZone: timeZone('IANA time zone of the period boundaries, e.g. Europe/Paris.'),
    alertAt: z
      .array(z.int().min(1).max(1000).meta({ description: 'Percent of the amount' }))
      .max(10)
      .default([60, 80, 95, 100])
      .meta({
        description:
          'Percentages of the amount whose crossing gives a Warning Event, once per period each: BudgetThresholdCrossed under 100, BudgetExceeded from 100.',
        'x-kubernetes-list-type': 'set',
      }),
    mode: mode.optional().meta({ description: 'Overrides spec.mode for this rule: onExceeded acts only in Enforce.' }),
    onExceeded: z
      .array(z.enum(['DenyNewGPUPods', 'ScaleDevToZero']))
      .max(2)
      .default([])
      .meta({
        description:
          'What happens while the spend is at or over the amount, in Enforce (Audit records what would): DenyNewGPUPods refuses new GPU pods in scope at admission (replacement pods of workloads that existed when the budget was exceeded are admitted); ScaleDevToZero puts to sleep now the workloads in scope that a scaleToZero rule governs.',
        'x-kubernetes-list-type': 'set',
      }),
    anomaly: anomalyRule.optional(),
    contact: z.string().max(256).optional().meta({
      description:
        'Who to ask when the budget refuses a pod, named in the refusal (e.g. "#ml-platform on Slack"); the platform team when unset.',
    }),
  })
  .meta({
    description:
      'A spend budget for the workloads the policy matches, counted from the cost ledger (deleted workloads included), with alerts and a forecast.',
    'x-kubernetes-validations': [{ rule: "self.amount.matches('[1-9]')", message: 'amount must be more than zero' }],
  });

export const policySpecSchema = z
  .strictObject({
    mode: mode.optional().meta({
      description:
        "Audit records what Enforce would do and changes nothing. When unset, the operator's --default-mode applies (Audit unless the platform team chose otherwise); status.mode shows the mode in force.",
    }),
    allowExemptions: z
      .boolean()
      .default(true)
      .meta({ description: 'Whether workloads may opt out with the annotation aicost.dev/exempt: "true".' }),
    namespaceSelector: labelSelectorSchema.optional(),
    selector: labelSelectorSchema.optional(),
    exclude: z
      .strictObject({
        namespaces: z
          .array(z.string().max(63).regex(new RegExp(DNS_LABEL)))
          .max(100)
          .optional(),
        selectors: z.array(labelSelectorSchema).max(20).optional(),
      })
      .optional()
      .meta({
        description:
          "Namespaces and workloads never touched by this policy (kube-system and the operator's namespace never are).",
      }),
    rules: z
      .strictObject({
        idleGPU: idleGpuRule.optional(),
        scaleToZero: scaleToZeroRule.optional(),
        spot: spotRule.optional(),
        budget: budgetRule.optional(),
        recommendations: recommendationsRule.optional(),
      })
      .meta({
        description: 'The rules this policy enforces (or, for recommendations, reports); at least one.',
        'x-kubernetes-validations': [
          {
            rule: 'has(self.idleGPU) || has(self.scaleToZero) || has(self.spot) || has(self.budget) || has(self.recommendations)',
            message: 'rules must set at least one of idleGPU, scaleToZero, spot, budget, recommendations',
          },
        ],
      }),
  })
  .meta({ description: 'What the policy matches and enforces.' });

const conditionSchema = z.strictObject({
  type: z.string().max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.int().min(0).optional(),
  lastTransitionTime: z.string().max(64),
  reason: z.string().max(1024),
  message: z.string().max(32768),
});

const actionSchema = z.strictObject({
  workload: z.string().max(512).meta({ description: 'Kind/namespace/name' }),
  rule: z.enum(['idleGPU', 'scaleToZero', 'spot', 'budget']),
  action: z.string().max(64),
  mode: mode,
  time: z.string().max(64),
  reason: z.string().max(1024),
  estimatedSavingPerHour: z.string().max(32).optional(),
});

const budgetStatusSchema = z
  .strictObject({
    periodStart: timestamp('Start of the current period (RFC 3339, UTC).'),
    periodEnd: timestamp('End of the current period, exclusive.'),
    accountedUntil: timestamp('The spend is counted up to this time (the last accounting cycle).'),
    spent: money('Spend of the period so far, a decimal string with 6 decimals in status.currency.'),
    percent: z.int().min(0).meta({ description: 'spent as a percentage of the amount, rounded down.' }),
    forecast: money(
      "Forecast of the period's spend at its end, to the cent: spent plus the forecast of the rest of the period.",
    ),
    forecastPercent: z.int().min(0).meta({ description: 'forecast as a percentage of the amount, rounded down.' }),
    forecastCrossingTime: timestamp(
      'When the spend is forecast to reach the amount, if it is before the period ends and has not happened yet.',
    ).optional(),
    lastThresholdCrossed: z
      .int()
      .min(1)
      .max(1000)
      .optional()
      .meta({ description: 'The highest alertAt percentage crossed this period (its Event was given).' }),
    anomalySince: timestamp(
      'When the current spend anomaly started (its Event was given); absent while the spend is normal.',
    ).optional(),
    lastHourSpend: money("The scope's spend over the last hour, to the cent.").optional(),
    baselinePerHour: money(
      'The baseline the last hour is compared with, to the cent; absent until the scope has spent before.',
    ).optional(),
    exceededAt: timestamp(
      'When the spend reached the amount this period; onExceeded acts from then on. Workloads created before it keep their replacement pods.',
    ).optional(),
  })
  .meta({ description: 'The budget of rules.budget in the current period.' });

export const policyStatusSchema = z.strictObject({
  observedGeneration: z.int().min(0).optional(),
  mode: mode.optional().meta({ description: 'The policy-level mode in force: spec.mode, else the operator default.' }),
  conditions: z.array(conditionSchema).max(16).optional(),
  matchedWorkloads: z.int().min(0).optional(),
  actionCount: z
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Actions taken (Enforce) or recorded (Audit) since the policy was created.' }),
  lastActions: z.array(actionSchema).max(20).optional(),
  overridden: z
    .array(
      z.strictObject({
        workload: z.string().max(512),
        rule: z.enum(['idleGPU', 'scaleToZero', 'spot', 'budget']),
        by: z.string().max(253).meta({ description: 'The policy that governs this rule of the workload instead.' }),
      }),
    )
    .max(20)
    .optional()
    .meta({
      description: 'Workloads this policy matches whose rule another, more specific policy governs (first 20).',
    }),
  overriddenCount: z.int().min(0).optional(),
  realizedSavingsPerHour: z.string().max(32).optional().meta({
    description:
      'What the workloads the policy holds off now (Deployments and StatefulSets it scaled to zero, Jobs it suspended) would cost per hour awake: their cost-per-hour when it turned them off (aicost.dev/cost-per-hour-before).',
  }),
  realizedSavingsPerMonth: z
    .string()
    .max(32)
    .optional()
    .meta({ description: 'realizedSavingsPerHour over a month of 730 hours.' }),
  estimatedSavingsPerHour: z.string().max(32).optional().meta({
    description:
      "Would-be savings per hour, not realized: the hourly cost of the workloads the policy's Audit rules would turn off, and the saving spot capacity would bring the checkpointing workloads that run on demand (ForgoneSpotSaving).",
  }),
  estimatedSavingsPerMonth: z
    .string()
    .max(32)
    .optional()
    .meta({ description: 'estimatedSavingsPerHour over a month of 730 hours.' }),
  budget: budgetStatusSchema.optional(),
  currency: z.string().max(3).optional(),
  recommendations: recommendationsStatusSchema.optional(),
});

export type PolicySpec = z.output<typeof policySpecSchema>;
export type PolicyStatus = z.output<typeof policyStatusSchema>;

export const POLICY_GROUP = 'aicost.dev';
export const POLICY_VERSION = 'v1alpha1';
export const POLICY_PLURAL = 'aicostpolicies';
