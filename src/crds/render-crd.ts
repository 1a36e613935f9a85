/**
 * Turns the zod schemas into a structural CustomResourceDefinition: OpenAPI v3 from zod's JSON Schema
 * output, with what Kubernetes does not accept removed (additionalProperties: false next to properties;
 * unknown fields are instead rejected by the API server's strict field validation and pruned).
 */
import { z } from 'zod';
import { POLICY_GROUP, POLICY_PLURAL, POLICY_VERSION, policySpecSchema, policyStatusSchema } from './aicost-policy.ts';

type Json = Record<string, unknown>;

function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === '$schema' || key === 'id') continue;
    if (key === 'additionalProperties' && value === false) continue;
    out[key] = structural(value);
  }
  return out;
}

export function openApiOf(schema: z.ZodType): Json {
  return structural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' })) as Json;
}

export function renderPolicyCrd(): Json {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${POLICY_PLURAL}.${POLICY_GROUP}` },
    spec: {
      group: POLICY_GROUP,
      names: {
        kind: 'AICostPolicy',
        listKind: 'AICostPolicyList',
        plural: POLICY_PLURAL,
        singular: 'aicostpolicy',
        shortNames: ['acp'],
        categories: ['aicost'],
      },
      scope: 'Cluster',
      versions: [
        {
          name: POLICY_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Mode', type: 'string', jsonPath: '.status.mode' },
            { name: 'Matched', type: 'integer', jsonPath: '.status.matchedWorkloads' },
            { name: 'Actions', type: 'integer', jsonPath: '.status.actionCount' },
            { name: 'Spent', type: 'string', jsonPath: '.status.budget.spent' },
            { name: 'Budget', type: 'string', jsonPath: '.spec.rules.budget.amount' },
            { name: 'Forecast', type: 'string', jsonPath: '.status.budget.forecast' },
            { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'AICostPolicy governs the GPU spend of the workloads it matches.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: openApiOf(policySpecSchema),
                status: openApiOf(policyStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}
