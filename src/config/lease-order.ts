/** The leader election options' order, checked once they have parsed (src/config/config.ts). */
import { quote } from './option-schemas.ts';

type LeaseOption = 'retry-period' | 'renew-deadline' | 'lease-duration';

/**
 * Retry period < renew deadline < lease duration: a leader steps down after the renew deadline, which must come
 * before a standby may take the Lease, and it must get more than one try at renewing before then.
 */
export function leaseOrder(
  p: Readonly<Record<LeaseOption, number>>,
  raw: Readonly<Record<LeaseOption, string>>,
  origin: Readonly<Record<LeaseOption, string>>,
): string[] {
  const order: readonly LeaseOption[] = ['retry-period', 'renew-deadline', 'lease-duration'];
  const needs = `leader election needs ${order.map((name) => origin[name]).join(' < ')}`;
  return ([order.slice(0, 2), order.slice(1, 3)] as [LeaseOption, LeaseOption][])
    .filter(([shorter, longer]) => p[shorter] >= p[longer])
    .map(([a, b]) => `${origin[a]}: ${quote(raw[a])} is not shorter than ${origin[b]}, ${quote(raw[b])} (${needs})`);
}
