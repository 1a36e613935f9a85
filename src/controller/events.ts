/**
 * Kubernetes Events (core/v1) for namespace owners and platform teams. Repeats of the same event on the
 * same object within ten minutes update the existing Event's count instead of creating another one, as
 * client-go's recorder does, so a workload idle for hours does not flood the namespace.
 */
import type { Logger } from 'pino';
import { collectionPath, objectPath } from './api-paths.ts';
import type { Clock } from './clock.ts';
import type { KubeClient } from './kube-client.ts';
import { errorSummary } from './errors.ts';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string | undefined;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * `annotations` go on the Event object itself, for a reader that needs more than the message says (the
   * leader reads the policy of a SpotDenied Event from one).
   */
  record(
    object: ObjectRef,
    type: EventType,
    reason: string,
    message: string,
    annotations?: Readonly<Record<string, string>>,
  ): Promise<void>;
}

const AGGREGATE_MS = 10 * 60_000;
export const COMPONENT = 'aicost-operator';

export function createEventRecorder(client: KubeClient, clock: Clock, log: Logger): EventRecorder {
  const recent = new Map<string, { name: string; namespace: string; count: number; atMs: number }>();
  return {
    async record(object, type, reason, message, annotations) {
      const namespace = object.namespace || 'default';
      const key = `${object.kind}/${namespace}/${object.name}/${reason}/${message}/${JSON.stringify(annotations ?? {})}`;
      const nowMs = clock.now();
      const nowIso = new Date(nowMs).toISOString();
      const last = recent.get(key);
      try {
        if (last && nowMs - last.atMs < AGGREGATE_MS) {
          last.count += 1;
          last.atMs = nowMs;
          await client.patch(
            objectPath('Event', last.namespace, last.name),
            { count: last.count, lastTimestamp: nowIso },
            'merge',
          );
          return;
        }
        const name = `${object.name}.${nowMs.toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`.slice(
          0,
          253,
        );
        await client.create(collectionPath('Event', namespace), {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace, ...(annotations ? { annotations: { ...annotations } } : {}) },
          involvedObject: object,
          type,
          reason,
          message: message.slice(0, 1024),
          count: 1,
          firstTimestamp: nowIso,
          lastTimestamp: nowIso,
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          reportingInstance: COMPONENT,
        });
        recent.set(key, { name, namespace, count: 1, atMs: nowMs });
        if (recent.size > 10_000) recent.delete(recent.keys().next().value ?? '');
      } catch (error) {
        // An Event is best effort: never fail a reconcile because of one.
        log.warn(
          { err: errorSummary(error), reason, object: `${object.kind}/${namespace}/${object.name}` },
          'could not record an Event',
        );
        recent.delete(key);
      }
    },
  };
}
