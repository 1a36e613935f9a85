/** The cached projection of an AICostPolicy: its parsed spec, or why it is invalid, and its status. */
import { z } from 'zod';
import { policySpecSchema, policyStatusSchema, type PolicySpec, type PolicyStatus } from './aicost-policy.ts';

export interface PolicyRecord {
  readonly name: string;
  readonly uid: string;
  readonly generation: number;
  /** Undefined when the spec does not parse (an older schema, a field the API server did not check). */
  readonly spec: PolicySpec | undefined;
  readonly invalid: string | undefined;
  readonly status: PolicyStatus | undefined;
}

export function projectPolicy(object: {
  metadata?: { name?: string; uid?: string; generation?: number };
  spec?: unknown;
  status?: unknown;
}): PolicyRecord | undefined {
  const name = object.metadata?.name;
  if (!name) return undefined;
  const spec = policySpecSchema.safeParse(object.spec ?? {});
  const status = policyStatusSchema.safeParse(object.status ?? {});
  return {
    name,
    uid: object.metadata?.uid ?? '',
    generation: object.metadata?.generation ?? 0,
    spec: spec.success ? spec.data : undefined,
    invalid: spec.success ? undefined : z.prettifyError(spec.error).slice(0, 1000),
    status: status.success ? status.data : undefined,
  };
}
