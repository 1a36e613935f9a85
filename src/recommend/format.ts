/**
 * Recommendations as text: an aligned table for people, a JSON array for programs. The saving is the exact
 * decimal of its nano-units (report/format.ts's `decimal`), never a rounded float.
 */
import { decimal } from '../report/format.ts';
import type { Recommendation } from './types.ts';

/** The largest saving first; ties by type and target, so the output is stable. */
export function sortRecommendations(list: readonly Recommendation[]): Recommendation[] {
  return [...list].sort(
    (a, b) =>
      (a.monthlySaving > b.monthlySaving ? -1 : a.monthlySaving < b.monthlySaving ? 1 : 0) ||
      a.type.localeCompare(b.type) ||
      a.target.localeCompare(b.target),
  );
}

export function recommendationJson(r: Recommendation): Record<string, string | number | boolean> {
  return {
    type: r.type,
    target: r.target,
    cluster: r.clusterId,
    monthlySaving: decimal(r.monthlySaving),
    currency: r.currency,
    confidence: r.confidence,
    reason: r.reason,
    ...r.details,
  };
}

export function formatRecommendations(list: readonly Recommendation[], format: 'table' | 'json'): string {
  const sorted = sortRecommendations(list);
  if (format === 'json') return JSON.stringify(sorted.map(recommendationJson), null, 2);
  if (sorted.length === 0) return 'No recommendations.';
  const header = ['TYPE', 'TARGET', 'CLUSTER', 'SAVING/MONTH', 'CURRENCY', 'CONFIDENCE', 'REASON'];
  const lines = sorted.map((r) => [
    r.type,
    r.target,
    r.clusterId,
    decimal(r.monthlySaving),
    r.currency,
    r.confidence,
    r.reason,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ');
  return [row(header), ...lines.map(row)].join('\n');
}
