/** The Lease flags (src/controller/leader-election.ts); their order is checked by lease-order.ts. */
import { z } from 'zod';
import { bool, duration, text } from './option-schemas.ts';

export const LEADER_ELECTION_OPTIONS = {
  'leader-elect': {
    // Off by default, as in controller-runtime: a run outside the cluster should not wait for a Lease in a
    // namespace it may not have. The chart turns it on.
    help: 'elect a leader on a Lease (only the leader writes); the Helm chart turns it on',
    env: 'AICOST_LEADER_ELECT',
    default: 'false',
    schema: bool,
  },
  'leader-election-namespace': {
    help: 'namespace of the Lease (default: --namespace)',
    env: 'AICOST_LEADER_ELECTION_NAMESPACE',
    default: '',
    schema: z.string(),
  },
  'leader-election-id': {
    help: 'name of the Lease',
    env: 'AICOST_LEADER_ELECTION_ID',
    default: 'aicost-operator',
    schema: text(63),
  },
  'lease-duration': {
    help: 'a standby takes the Lease after the leader has not renewed it for this long',
    env: 'AICOST_LEASE_DURATION',
    default: '15s',
    schema: duration(2000, 600_000),
  },
  'renew-deadline': {
    help: 'the leader gives up (and exits) if it cannot renew for this long',
    env: 'AICOST_RENEW_DEADLINE',
    default: '10s',
    schema: duration(1000, 600_000),
  },
  'retry-period': {
    help: 'how often candidates and the leader touch the Lease',
    env: 'AICOST_RETRY_PERIOD',
    default: '2s',
    schema: duration(200, 60_000),
  },
} as const;
