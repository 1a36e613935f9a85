/**
 * The recommendations part of AICostPolicy (aicost-policy.ts): spec.rules.recommendations, which asks for a
 * summary, and status.recommendations, the summary (src/recommend/policy-summary.ts). Apart, so that the
 * policy's schema fits its screens.
 */
import { z } from 'zod';

const RECOMMENDATION_TYPES = ['right-size', 'fewer-gpus', 'empty-node', 'commitment'] as const;

export const recommendationsRule = z
  .strictObject({
    top: z.int().min(0).max(10).default(3).meta({
      description: 'How many of the largest recommendations status.recommendations.top lists (the counts cover all).',
    }),
  })
  .meta({
    description:
      "Report, never act: status.recommendations summarizes the operator's current recommendations (right-size, fewer-gpus) for the workloads this policy selects. Nothing is changed by a recommendation; the operator computes them every --recommend-interval.",
  });

const savingPerMonth = (description: string) => z.string().max(32).meta({ description });

export const recommendationsStatusSchema = z
  .strictObject({
    count: z.int().min(0).meta({ description: 'Current recommendations for the workloads the policy selects.' }),
    monthlySaving: savingPerMonth(
      'What they would save together over a month of 730 hours, a decimal string to the cent in currency.',
    ),
    currency: z.string().max(3),
    byType: z
      .array(
        z.strictObject({
          type: z.enum(RECOMMENDATION_TYPES),
          count: z.int().min(1),
          monthlySaving: savingPerMonth('Their saving over a month, to the cent.'),
        }),
      )
      .max(4)
      .meta({
        description: 'Count and saving by type, in the order of the types.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
    top: z
      .array(
        z.strictObject({
          type: z.enum(RECOMMENDATION_TYPES),
          target: z.string().max(512).meta({ description: 'namespace/Kind/name' }),
          monthlySaving: savingPerMonth('Its saving over a month, to the cent.'),
          confidence: z.enum(['high', 'medium']),
        }),
      )
      .max(10)
      .meta({ description: 'The largest, by saving (spec.rules.recommendations.top of them).' }),
  })
  .meta({
    description:
      "The operator's current recommendations for the workloads the policy selects (rules.recommendations), from its last run; the Events on each workload and aicost_recommendation_monthly_saving give them one by one.",
  });
