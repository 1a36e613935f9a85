/**
 * --idle-owner-label (issue #18; docs/cost-model.md#idle-owned-by-a-team): the node label whose value owns a
 * node's idle capacity. Config.idleOwnerLabel is the key, undefined when off (all idle is the cluster's).
 */
import { optionalLabelKey } from './option-schemas.ts';

export const IDLE_OWNER_OPTIONS = {
  'idle-owner-label': {
    help: "node label key whose value owns the node's idle capacity, e.g. team: a labelled pool's idle is that team's cost in the ledger, reports and its budgets (docs/cost-model.md#idle-owned-by-a-team); empty: all idle is the cluster's",
    env: 'AICOST_IDLE_OWNER_LABEL',
    default: '',
    schema: optionalLabelKey,
  },
} as const;

export interface IdleOwnerConfig {
  /** The node label whose value owns a node's idle capacity; undefined: off (all idle is the cluster's). */
  readonly idleOwnerLabel: string | undefined;
}
