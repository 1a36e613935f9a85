/** A minimal Prometheus HTTP API client: instant queries with a timeout, over the connection's credentials. */
import type { IncomingMessage } from 'node:http';
import { displayUrl } from '../controller/display-url.ts';
import { isOk, readText, send } from '../controller/http-request.ts';
import { streamJsonArray } from '../controller/json-stream.ts';
import { uriEncode } from '../ledger/sigv4.ts';
import { JOIN_LABELS, type MatrixSeries } from './gpu-utilization.ts';
import { MODEL_LABELS } from './inference-metrics.ts';
import {
  moveUserInfo,
  NO_TLS_FILES,
  prometheusConnection,
  type PreparedRequest,
  type PrometheusSettings,
} from './prometheus-connection.ts';

export interface PrometheusClient {
  /** Runs an instant query returning a range vector (matrix) at `time` (epoch seconds). */
  queryMatrix(query: string, time: number): Promise<MatrixSeries[]>;
  /**
   * Runs an instant query returning an instant vector at `time` (epoch seconds): each series with its one
   * sample as `values[0]`, so that both kinds of answer are read the same way.
   */
  queryVector(query: string, time: number): Promise<MatrixSeries[]>;
}

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
}

/**
 * The labels kept of each series: those that join it to a pod (both label styles) and an inference server's model
 * name. dcgm-exporter's dozen others (UUID, PCI bus, driver...) would be most of a fleet's answer.
 */
const KEPT_LABELS: readonly string[] = [...JOIN_LABELS, ...MODEL_LABELS];

function compactSeries(raw: unknown, resultType: 'matrix' | 'vector'): MatrixSeries {
  const series = raw as { metric?: Record<string, unknown>; values?: unknown; value?: unknown };
  const metric: Record<string, string> = {};
  for (const label of KEPT_LABELS) {
    const value = series.metric?.[label];
    if (typeof value === 'string') metric[label] = value;
  }
  // Malformed values are passed on as they are: the readers mark the pod's figures unknown.
  if (resultType === 'vector') return { metric, values: [series.value as MatrixSeries['values'][number]] };
  return { metric, values: Array.isArray(series.values) ? (series.values as MatrixSeries['values']) : [] };
}

/** The options of a client: a URL and a timeout, and whatever credentials, TLS files and headers it needs. */
export type ClientSettings = Pick<PrometheusSettings, 'url' | 'timeoutMs'> & Partial<PrometheusSettings>;

/** `name=value&...`, RFC 3986-encoded: what is sent is what a SigV4 signature covers (no `+` for a space). */
const queryString = (pairs: readonly (readonly [string, string])[]): string =>
  pairs.map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`).join('&');

export function createPrometheusClient(options: ClientSettings, nowMs: () => number = Date.now): PrometheusClient {
  // User info in the URL is basic auth; it is taken out so the URL held here can be shown.
  const { url, auth } = moveUserInfo(options.url, options.auth ?? { kind: 'none' });
  const settings: PrometheusSettings = {
    tls: NO_TLS_FILES,
    headers: [],
    ...options,
    url: url.replace(/\/$/, ''),
    auth,
  };
  const connection = prometheusConnection(settings, nowMs);
  const shown = displayUrl(settings.url);
  /** One instant query whose answer must be of `resultType`; its series compacted as they arrive. */
  async function query(text: string, time: number, resultType: 'matrix' | 'vector'): Promise<MatrixSeries[]> {
    const url = new URL(
      `${settings.url}/api/v1/query?${queryString([
        ['query', text],
        ['time', String(time)],
      ])}`,
    );
    let prepared: PreparedRequest;
    try {
      prepared = await connection.prepare(url);
    } catch (cause) {
      throw new PrometheusError(`no query sent to Prometheus at ${shown}: ${(cause as Error).message}`, { cause });
    }
    const series: MatrixSeries[] = [];
    let rest: { status?: string; error?: string; data?: { resultType?: string } };
    try {
      const response = await send(url, {
        // Uncompressed: a fleet's answer is a few MB once a cycle on the cluster network, and gzip would
        // cost Prometheus and this replica more CPU than the transfer saves.
        headers: { ...prepared.headers, 'accept-encoding': 'identity', accept: 'application/json' },
        agent: prepared.agent,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      if (!isOk(response)) throw new PrometheusError(await failureText(response));
      // The series are read one by one as they arrive and kept compact: the whole answer is never held.
      rest = (await streamJsonArray(response, ['data', 'result'], (s) =>
        series.push(compactSeries(s, resultType)),
      )) as typeof rest;
    } catch (cause) {
      if (cause instanceof PrometheusError) throw cause;
      throw new PrometheusError(`Prometheus at ${shown} did not answer: ${(cause as Error).message}`, { cause });
    }
    if (rest.status !== 'success') {
      throw new PrometheusError(`query failed: ${rest.error ?? 'no error text'}`);
    }
    if (rest.data?.resultType !== resultType) {
      throw new PrometheusError(`expected a ${resultType} result, got ${rest.data?.resultType ?? 'nothing'}`);
    }
    return series;
  }
  return {
    queryMatrix: (text, time) => query(text, time, 'matrix'),
    queryVector: (text, time) => query(text, time, 'vector'),
  };
}

/** A refused query's status and Prometheus's error text (or the start of whatever else answered). */
async function failureText(response: IncomingMessage): Promise<string> {
  const text = await readText(response);
  let error = text.slice(0, 300) || 'no error text';
  try {
    error = (JSON.parse(text) as { error?: string }).error ?? error;
  } catch {
    // not Prometheus's JSON: keep the text
  }
  return `query failed (${String(response.statusCode)}): ${error}`;
}
