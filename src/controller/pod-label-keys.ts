/**
 * Which pod labels the pod cache keeps. Keeping every label of every pod would multiply the size of a
 * 20,000-pod cache, and the operator reads few of them: the roll-up keys (--label-keys) and the keys that
 * policies select bare pods by (spec.selector and spec.exclude.selectors of every AICostPolicy). The second set
 * follows the policies: when a policy names a key the cached projections lack, the pods are listed again, so
 * that a selector such as `app: notebook` sees the label it names.
 */
import type { Logger } from 'pino';
import type { LabelSelector } from '../crds/aicost-policy.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import { errorSummary } from './errors.ts';
import type { Reflector } from './reflector.ts';

export class PodLabelKeys {
  private readonly base: readonly string[];
  private keys: ReadonlySet<string>;

  constructor(base: readonly string[]) {
    this.base = base;
    this.keys = new Set(base);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** Keeps the roll-up keys and these; returns whether one of them was not kept before. */
  setSelectorKeys(selectorKeys: ReadonlySet<string>): boolean {
    const added = [...selectorKeys].some((k) => !this.keys.has(k));
    this.keys = new Set([...this.base, ...selectorKeys]);
    return added;
  }
}

/** The label keys the policies' pod selectors name, in matchLabels and matchExpressions alike. */
export function selectorKeys(policies: Iterable<PolicyRecord>): Set<string> {
  const keys = new Set<string>();
  const add = (s: LabelSelector | undefined) => {
    for (const k of Object.keys(s?.matchLabels ?? {})) keys.add(k);
    for (const e of s?.matchExpressions ?? []) keys.add(e.key);
  };
  for (const p of policies) {
    add(p.spec?.selector);
    for (const s of p.spec?.exclude?.selectors ?? []) add(s);
  }
  return keys;
}

/**
 * Keeps `keys` in step with the policies, and lists the pods again when a policy names a key they lack (at most
 * one list at a time; a change during a list leads to one more). Pods not listed yet need nothing: start the
 * policies first, and the pods' first list already keeps their keys.
 */
export function followPolicySelectors(
  policies: Reflector<PolicyRecord>,
  keys: PodLabelKeys,
  pods: Pick<Reflector<unknown>, 'resync'>,
  log: Logger,
): void {
  let listing = false;
  let again = false;
  const relist = () => {
    if (listing) {
      again = true;
      return;
    }
    listing = true;
    pods
      .resync()
      .catch((error: unknown) => log.warn({ err: errorSummary(error) }, 'could not list the pods again'))
      .finally(() => {
        listing = false;
        if (again) {
          again = false;
          relist();
        }
      });
  };
  policies.onChange(() => {
    if (keys.setSelectorKeys(selectorKeys(policies.store.values()))) {
      log.info('a policy selects pods by a label the pod cache did not keep: listing the pods again');
      relist();
    }
  });
}
