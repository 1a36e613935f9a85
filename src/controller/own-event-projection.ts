/** The projection of the operator's own Events, which the leader reads back (createOwnEventReflector). */
import { ownAnnotations, type Meta } from './projections.ts';

type Dict = Readonly<Record<string, string>>;

/** One of the operator's own Events, for the leader to read back (the webhook's SpotDenied Events). */
export interface OwnEventRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly count: number;
  /** aicost.dev/* annotations of the Event object. */
  readonly annotations: Dict;
  /** Kind/namespace/name of the object it is about. */
  readonly involvedObject: string;
}

interface RawEvent {
  metadata?: Meta;
  reason?: string;
  reportingComponent?: string;
  count?: number;
  involvedObject?: { kind?: string; namespace?: string; name?: string };
}

/**
 * Events of `reason` that `component` reported. The reflector's field selector asks the API server for just
 * those; the projection checks again, so a server (or a fake) that ignores the selector changes nothing.
 */
export function projectOwnEvent(reason: string, component: string) {
  return (event: RawEvent): OwnEventRecord | undefined => {
    const meta = event.metadata;
    if (!meta?.name || !meta.namespace || event.reason !== reason || event.reportingComponent !== component)
      return undefined;
    const o = event.involvedObject;
    return {
      uid: meta.uid ?? '',
      namespace: meta.namespace,
      name: meta.name,
      count: Math.max(1, event.count ?? 1),
      annotations: ownAnnotations(meta.annotations),
      involvedObject: `${o?.kind ?? ''}/${o?.namespace ?? meta.namespace}/${o?.name ?? ''}`,
    };
  };
}
