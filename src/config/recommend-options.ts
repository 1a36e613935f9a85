/**
 * The options of the operator's recommender (src/reconcilers/recommender.ts; docs/unit-economics.md#in-the-operator):
 * how often it runs, the window of data a right-size or fewer-GPUs recommendation stands on, and how long a GPU
 * node must have been empty. The rules' other settings are those of `aicost recommend`'s defaults.
 */
import { duration, offOrDuration } from './option-schemas.ts';

const DAY_MS = 86_400_000;

export const RECOMMEND_OPTIONS = {
  'recommend-interval': {
    help: 'how often the leader computes recommendations (right-size, fewer GPUs, empty GPU nodes) from the ledger and Prometheus, from 10s to 24h; 0 turns them off',
    env: 'AICOST_RECOMMEND_INTERVAL',
    default: '1h',
    schema: offOrDuration(10_000, DAY_MS),
  },
  'recommend-window': {
    help: 'the data a right-size or fewer-GPUs recommendation stands on: never from less, from 1m to 30d (ledger windows are read whole, so it is rounded up to them)',
    env: 'AICOST_RECOMMEND_WINDOW',
    default: '24h',
    schema: duration(60_000, 30 * DAY_MS),
  },
  'recommend-empty-after': {
    help: 'how long a GPU node must have had none of its GPUs requested before it is recommended for removal, from 1m to 7d',
    env: 'AICOST_RECOMMEND_EMPTY_AFTER',
    default: '2h',
    schema: duration(60_000, 7 * DAY_MS),
  },
} as const;

export interface RecommendConfig {
  /** 0: off. */
  readonly recommendIntervalMs: number;
  readonly recommendWindowMs: number;
  readonly recommendEmptyAfterMs: number;
}

export function recommendConfig(p: {
  readonly 'recommend-interval': number;
  readonly 'recommend-window': number;
  readonly 'recommend-empty-after': number;
}): RecommendConfig {
  return {
    recommendIntervalMs: p['recommend-interval'],
    recommendWindowMs: p['recommend-window'],
    recommendEmptyAfterMs: p['recommend-empty-after'],
  };
}
