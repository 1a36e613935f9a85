/**
 * What a replica does when it gains and loses the leader Lease (src/controller/leader-election.ts).
 *
 * Losing it ends the process with exit code 1, as controller-runtime does, and the Deployment starts it again as
 * a standby. Going back to candidate in the same process was the alternative; it was not taken because a term's
 * state outlives the term in too many places: the ledgers and policy memory in memory, the annotation writer's
 * states, a reconcile in the middle of its writes, a request the API server has not answered (the very fault that
 * costs the lease). A new process holds none of them; a candidate would have to cancel each and prove it did, or
 * write as a stale leader. The cost is a restart: the caches are listed again and the webhook on this replica
 * is down for its start-up, while the other replicas serve it.
 */
import type { Logger } from 'pino';
import type { LeaderCallbacks } from './controller/leader-election.ts';
import type { Metrics } from './controller/metrics.ts';
import type { Operator } from './operator.ts';

export interface LeadershipDeps {
  readonly operator: Pick<Operator, 'startLeading' | 'stopLeading'>;
  readonly metrics: Pick<Metrics, 'leader'>;
  readonly log: Logger;
  /** Whether the process is shutting down; asked again after every wait. */
  readonly stopping: () => boolean;
  /** Ends the process: process.exit in src/main.ts. */
  readonly exit: (code: number) => void;
}

export interface Leadership extends LeaderCallbacks {
  /** Starts the leader's work (also without election, where the one replica leads from the start). */
  startLeading(): Promise<void>;
}

export function leadership(deps: LeadershipDeps): Leadership {
  let lost = false;
  // A lease lost while the new leader relists must not start the workers after it.
  const over = () => lost || deps.stopping();
  const startLeading = async () => {
    if (over()) return;
    deps.metrics.leader.set(1);
    await deps.operator.startLeading(over);
  };
  return {
    startLeading,
    onStartedLeading: () => void startLeading(),
    onStoppedLeading: () => {
      lost = true;
      // Stop taking work before anything else, so that nothing starts between here and the exit.
      deps.operator.stopLeading();
      deps.metrics.leader.set(0);
      deps.log.fatal('lost the leader lease: exiting');
      deps.exit(1);
    },
  };
}
