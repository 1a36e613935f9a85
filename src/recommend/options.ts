/** `aicost recommend`'s arguments: parsed and checked, or what is wrong with them (with the usage line). */
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from '../config/duration.ts';
import { parseMoney } from '../cost/money.ts';
import { isClusterId } from '../ledger/layout.ts';
import { forProgram, PROGRAM } from '../program-name.ts';
import { DEFAULT_COMMITMENT, type CommitmentSettings } from './commitments.ts';
import { DEFAULT_EMPTY_NODE, type EmptyNodeSettings } from './empty-nodes.ts';
import { DEFAULT_RIGHT_SIZE, type RightSizeSettings } from './right-size.ts';

export const RECOMMEND_USAGE =
  'Usage: aicost recommend [--prometheus-url URL] [--ledger DIR] [--cluster ID] [--format table|json] [options]';

export interface RecommendOptions {
  readonly prometheusUrl: string | undefined;
  readonly ledger: string | undefined;
  readonly cluster: string | undefined;
  readonly format: 'table' | 'json';
  readonly scrapeIntervalSeconds: number;
  readonly prometheusTimeoutMs: number;
  readonly rightSize: RightSizeSettings;
  readonly emptyNode: EmptyNodeSettings;
  readonly commitment: CommitmentSettings;
}

const DAY_MS = 86_400_000;

export function parseRecommendArgs(
  args: readonly string[],
  program = PROGRAM,
): RecommendOptions | { readonly error: string } {
  const fail = (message: string) => ({
    error: `${program} recommend: ${message}\n${forProgram(RECOMMEND_USAGE, program)}`,
  });
  let v: Record<string, string | undefined>;
  try {
    v = parseArgs({
      args: [...args],
      options: {
        'prometheus-url': { type: 'string' },
        ledger: { type: 'string' },
        cluster: { type: 'string' },
        format: { type: 'string', default: 'table' },
        window: { type: 'string', default: formatDuration(DEFAULT_RIGHT_SIZE.minObservedSeconds * 1000) },
        'scrape-interval': { type: 'string', default: '15s' },
        'prometheus-timeout': { type: 'string', default: '60s' },
        headroom: { type: 'string', default: String(DEFAULT_RIGHT_SIZE.headroomPercent) },
        'empty-after': { type: 'string', default: formatDuration(DEFAULT_EMPTY_NODE.minEmptyMs) },
        discount: { type: 'string', default: DEFAULT_COMMITMENT.discountPercent },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return fail((error as Error).message.split('\n')[0] ?? '');
  }
  const format = v.format;
  if (format !== 'table' && format !== 'json') return fail(`--format is table or json, not "${format}"`);
  const windowMs = parseDuration(v.window ?? '');
  if (windowMs === undefined || windowMs < 3_600_000 || windowMs > 30 * DAY_MS || windowMs % 1000 !== 0)
    return fail(`--window is a duration from 1h to 30d, e.g. 24h or 7d, not "${v.window}"`);
  const scrapeMs = parseDuration(v['scrape-interval'] ?? '');
  if (scrapeMs === undefined || scrapeMs < 1000 || scrapeMs > 600_000)
    return fail(`--scrape-interval is a duration from 1s to 10m, not "${v['scrape-interval']}"`);
  const timeoutMs = parseDuration(v['prometheus-timeout'] ?? '');
  if (timeoutMs === undefined || timeoutMs < 1000) return fail(`--prometheus-timeout is a duration of 1s or more`);
  const headroom = Number(v.headroom);
  if (!/^\d{1,3}$/.test(v.headroom ?? '') || headroom > 100) return fail('--headroom is a whole percent, 0 to 100');
  const emptyMs = parseDuration(v['empty-after'] ?? '');
  if (emptyMs === undefined || emptyMs < 60_000) return fail('--empty-after is a duration of 1m or more');
  const discount = v.discount ?? '';
  if (!/^\d{1,2}(\.\d{1,2})?$/.test(discount) || parseMoney(discount) === 0n)
    return fail(`--discount is a percent off on-demand, above 0 and under 100, e.g. 30, not "${discount}"`);
  if (v.cluster !== undefined && !isClusterId(v.cluster)) return fail(`"${v.cluster}" is not a cluster id`);
  if (v['prometheus-url'] !== undefined && !/^https?:\/\//.test(v['prometheus-url']))
    return fail('--prometheus-url is an http:// or https:// URL');
  return {
    prometheusUrl: v['prometheus-url'],
    ledger: v.ledger,
    cluster: v.cluster,
    format,
    scrapeIntervalSeconds: scrapeMs / 1000,
    prometheusTimeoutMs: timeoutMs,
    rightSize: { ...DEFAULT_RIGHT_SIZE, minObservedSeconds: windowMs / 1000, headroomPercent: headroom },
    emptyNode: { minEmptyMs: emptyMs },
    commitment: { ...DEFAULT_COMMITMENT, discountPercent: discount },
  };
}
