/**
 * The schemas of the option kinds (durations, whole numbers, choices, URLs, label keys...). Every message
 * says what is wrong with the value and quotes it; the caller puts the flag or variable it came from in
 * front, so the name appears once: `--interval: "5 minutes" is not a duration such as 30s, 15m or 1h`.
 */
import { z } from 'zod';
import { displayUrl } from '../controller/display-url.ts';
import { currencySchema } from '../pricing/custom-pricing.ts';
import { isClusterId } from '../ledger/layout.ts';
import { parseUnits } from '../cost/quantity.ts';
import { formatDuration, parseDuration } from './duration.ts';

/** A value as the user wrote it, quoted (and escaped, so spaces and quotes inside stay visible). */
export const quote = (text: string): string => JSON.stringify(text);

type Ctx = z.RefinementCtx;
const fail = (ctx: Ctx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

/** A bounded quantity: the message names the bound crossed, written in the value's own units. */
function inRange(ctx: Ctx, text: string, value: number, min: number, max: number, show: (n: number) => string) {
  if (value < min) return fail(ctx, `${quote(text)} is below the minimum of ${show(min)}`);
  if (value > max) return fail(ctx, `${quote(text)} is above the maximum of ${show(max)}`);
  return value;
}

/** A duration such as 500ms, 30s or 1h30m, to milliseconds, within [minMs, maxMs]. */
export const duration = (minMs: number, maxMs: number) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) return fail(ctx, `${quote(text)} is not a duration such as 30s, 15m or 1h`);
    return inRange(ctx, text, ms, minMs, maxMs, formatDuration);
  });

/** A duration within [minMs, maxMs] that divides a day, so that windows start at UTC midnight each day. */
export const dayDivisor = (minMs: number, maxMs: number) =>
  duration(minMs, maxMs).superRefine((ms, ctx) => {
    if (86_400_000 % ms !== 0) fail(ctx, `${quote(formatDuration(ms))} does not divide a day (e.g. 15m, 1h, 6h)`);
  });

const DAY_MS = 86_400_000;

/**
 * How long the ledger keeps a date partition: 0 (forever), or from a day (partitions are whole UTC days) to
 * `maxDays`, written as a duration such as 400d. Milliseconds; 0 for forever.
 */
export const retention = (maxDays: number) =>
  z.string().transform((text, ctx) => {
    const ms = text.trim() === '0' ? 0 : parseDuration(text);
    if (ms === undefined) return fail(ctx, `${quote(text)} is not a duration such as 400d, or 0 to keep everything`);
    return ms === 0 ? 0 : inRange(ctx, text, ms, DAY_MS, maxDays * DAY_MS, (n) => `${n / DAY_MS}d`);
  });

/** Empty (the default), or a ledger cluster id (lower case letters, digits, '.', '_', '-'; at most 63). */
export const clusterId = z.string().superRefine((value, ctx) => {
  if (value !== '' && !isClusterId(value))
    fail(
      ctx,
      `${quote(value)} is not a cluster id (lower case letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63)`,
    );
});

/** Bytes as the largest binary unit that divides them: 3145728 -> 3Mi. */
export function formatBytes(bytes: number): string {
  for (const [suffix, size] of [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const)
    if (bytes % size === 0 && bytes >= size) return `${bytes / size}${suffix}`;
  return String(bytes);
}

/** A size in bytes written as a Kubernetes quantity (3Mi, 512Ki, 1048576), within [minBytes, maxBytes]. */
export const byteSize = (minBytes: number, maxBytes: number) =>
  z.string().transform((text, ctx) => {
    const bytes = /^\d+(\.\d+)?(Ki|Mi|Gi|k|M|G)?$/.test(text) ? parseUnits(text) : undefined;
    if (bytes === undefined) return fail(ctx, `${quote(text)} is not a size such as 3Mi, 512Ki or 1048576`);
    return inRange(ctx, text, bytes, minBytes, maxBytes, formatBytes);
  });

/** A whole number within [min, max]. */
export const wholeNumber = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    if (!/^\d+$/.test(text)) return fail(ctx, `${quote(text)} is not a whole number`);
    return inRange(ctx, text, Number(text), min, max, String);
  });

/** One of a few words, spelt exactly. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (issue) => `${quote(String(issue.input))} is not one of ${values.join(', ')}` });

export const bool = oneOf(['true', 'false']).transform((v) => v === 'true');

/** Text of at most `maxChars` characters; not empty unless `allowEmpty`. */
export const text = (maxChars: number, allowEmpty = false) =>
  z.string().superRefine((value, ctx) => {
    if (value === '' && !allowEmpty) fail(ctx, '"" is empty');
    else if (value.length > maxChars) fail(ctx, `${quote(value)} is longer than ${maxChars} characters`);
  });

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

export const httpUrl = z.string().superRefine((value, ctx) => {
  if (!isHttpUrl(value)) fail(ctx, `${quote(displayUrl(value))} is not an http(s) URL such as http://prometheus:9090`);
});

/**
 * PromQL label matchers, comma-separated (`job="dcgm-exporter"`, `job=~"dcgm.*",namespace="gpu-operator"`), or
 * empty: what goes between the braces of each DCGM query, so nothing else can be injected into it.
 */
export const SERIES_SELECTOR =
  /^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\\n]|\\.)*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\\n]|\\.)*"\s*)*$/;
export const selectorLike = (example: string) =>
  z.string().superRefine((value, ctx) => {
    if (value !== '' && !SERIES_SELECTOR.test(value))
      fail(ctx, `${quote(value)} is not a list of PromQL label matchers such as ${example}`);
  });
export const seriesSelector = selectorLike('job="dcgm-exporter"');

/** 0 (off), or a duration within [minMs, maxMs]; milliseconds. */
export const offOrDuration = (minMs: number, maxMs: number) =>
  z.string().transform((text, ctx) => {
    const ms = text.trim() === '0' ? 0 : parseDuration(text);
    if (ms === undefined) return fail(ctx, `${quote(text)} is not a duration such as 30s, 15m or 1h, or 0 for off`);
    return ms === 0 ? 0 : inRange(ctx, text, ms, minMs, maxMs, formatDuration);
  });

/** Empty (none), or an ISO 4217 code the pricing knows. */
export const currency = z.string().superRefine((value, ctx) => {
  if (value !== '' && !currencySchema.safeParse(value).success)
    fail(ctx, `${quote(value)} is not an ISO 4217 currency code such as USD or EUR`);
});

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * A Kubernetes label key with its lengths checked (a DNS prefix of at most 253 characters, a name of at most
 * 63), as the API server checks it: a key no node can carry would turn a feature on that never applies.
 */
export function isLabelKey(key: string): boolean {
  if (!LABEL_KEY.test(key)) return false;
  const slash = key.indexOf('/');
  return slash < 0 ? key.length <= 63 : slash <= 253 && key.length - slash - 1 <= 63;
}

/** Empty (off), or one label key (isLabelKey). */
export const optionalLabelKey = z.string().transform((text, ctx) => {
  const key = text.trim();
  if (key !== '' && !isLabelKey(key))
    return fail(ctx, `${quote(text)} is not a label key such as team or example.com/team`);
  return key;
});

/** Comma-separated Kubernetes label keys, at most `max`; each bad key is named. */
export const labelKeys = (max: number) =>
  z.string().transform((value, ctx) => {
    const keys = value
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
    for (const key of keys.filter((k) => !LABEL_KEY.test(k)))
      ctx.addIssue({
        code: 'custom',
        message: `${quote(key)} is not a label key such as team or app.kubernetes.io/name`,
      });
    if (keys.length > max)
      ctx.addIssue({ code: 'custom', message: `${quote(value)} has ${keys.length} keys, more than ${max}` });
    return keys;
  });
