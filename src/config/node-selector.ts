/**
 * --account-nodes: which nodes the accountant prices and splits among their pods. A label selector in kubectl's
 * syntax (`key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`, `!key`, joined by
 * commas), parsed once into the LabelSelector that src/policy/selector.ts matches. Empty: every node.
 */
import { z } from 'zod';
import type { LabelSelector } from '../crds/aicost-policy.ts';

type Requirement = NonNullable<LabelSelector['matchExpressions']>[number];

/** A Kubernetes label key: an optional DNS prefix and '/', then a name of at most 63 characters. */
const KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A label value: empty, or at most 63 characters that start and end with a letter or digit. */
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const SET = /^(!?)\s*([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const EQUALITY = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const EXISTS = /^(!?)\s*([^\s!=(),]+)$/;

/** The requirements of a selector, split at the commas outside parentheses. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** One requirement, or the sentence that says what is wrong with it. */
function parseRequirement(text: string): Requirement | string {
  const set = SET.exec(text);
  if (set) {
    const [, negated, key = '', op, list = ''] = set;
    if (negated) return `"${text}": a set requirement cannot be negated with !`;
    const values = list.split(',').map((v) => v.trim());
    const bad = values.find((v) => !VALUE.test(v));
    if (bad !== undefined) return `"${text}": "${bad}" is not a label value`;
    return checkedKey(key, text) ?? { key, operator: op === 'in' ? 'In' : 'NotIn', values };
  }
  const equality = EQUALITY.exec(text);
  if (equality) {
    const [, key = '', op, value = ''] = equality;
    if (!VALUE.test(value)) return `"${text}": "${value}" is not a label value`;
    return checkedKey(key, text) ?? { key, operator: op === '!=' ? 'NotIn' : 'In', values: [value] };
  }
  const exists = EXISTS.exec(text);
  if (exists) {
    const [, negated, key = ''] = exists;
    return checkedKey(key, text) ?? { key, operator: negated ? 'DoesNotExist' : 'Exists' };
  }
  return `"${text}" is not a requirement such as key=value, key!=value, key in (a,b), key notin (a,b), key or !key`;
}

function checkedKey(key: string, text: string): string | undefined {
  return KEY.test(key) ? undefined : `"${text}": "${key}" is not a label key such as team or karpenter.sh/nodepool`;
}

/**
 * The selector a text names: undefined for an empty text (every node), else its requirements (all must hold),
 * or the problems, one sentence each.
 */
export function parseNodeSelector(text: string): { selector: LabelSelector | undefined } | { problems: string[] } {
  if (text.trim() === '') return { selector: undefined };
  const problems: string[] = [];
  const matchExpressions: Requirement[] = [];
  for (const part of splitRequirements(text)) {
    if (part === '') {
      problems.push(`"${text}" has an empty requirement`);
      continue;
    }
    const parsed = parseRequirement(part);
    if (typeof parsed === 'string') problems.push(parsed);
    else matchExpressions.push(parsed);
  }
  return problems.length > 0 ? { problems } : { selector: { matchExpressions } };
}

/** The label keys a selector reads: a node's projection keeps them (projections.ts keeps few labels of CPU nodes). */
export function selectorKeys(selector: LabelSelector | undefined): string[] {
  return [...Object.keys(selector?.matchLabels ?? {}), ...(selector?.matchExpressions ?? []).map((e) => e.key)];
}

/** The option's schema: the parsed selector, each problem an issue. */
export const nodeSelector = z.string().transform((text, ctx) => {
  const parsed = parseNodeSelector(text);
  if ('problems' in parsed) {
    for (const message of parsed.problems) ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
  return parsed.selector;
});

/** The option's part of the configuration (config.ts). */
export interface AccountNodesConfig {
  /** --account-nodes: the nodes accounted; undefined: every node. */
  readonly accountNodes: LabelSelector | undefined;
}

export const ACCOUNT_NODES_OPTIONS = {
  'account-nodes': {
    help: 'label selector of the nodes to account, e.g. karpenter.sh/nodepool in (gpu,etl) (empty: every node, GPU and CPU-only)',
    env: 'AICOST_ACCOUNT_NODES',
    default: '',
    schema: nodeSelector,
  },
} as const;
