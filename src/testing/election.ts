import type { LeaderElectionOptions } from '../controller/leader-election.ts';

/** The election tests' settings: controller-runtime's defaults (15 s lease, 10 s renew deadline, 2 s retry). */
export const TEST_ELECTION: LeaderElectionOptions = {
  namespace: 'aicost-system',
  name: 'aicost-operator',
  identity: 'replica-a',
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2000,
};
