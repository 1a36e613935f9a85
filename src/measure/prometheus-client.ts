/** A minimal Prometheus HTTP API client: instant queries with a timeout. */
import { isOk, keepAliveAgent, readText, send } from '../controller/http-request.ts';
import { streamJsonArray } from '../controller/json-stream.ts';
import { JOIN_LABELS, type MatrixSeries } from './gpu-utilization.ts';

export interface PrometheusClient {
  /** Runs an instant query returning a range vector (matrix) at `time` (epoch seconds). */
  queryMatrix(query: string, time: number): Promise<MatrixSeries[]>;
}

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
}

function compactSeries(raw: unknown): MatrixSeries {
  const series = raw as { metric?: Record<string, unknown>; values?: unknown };
  const metric: Record<string, string> = {};
  for (const label of JOIN_LABELS) {
    const value = series.metric?.[label];
    if (typeof value === 'string') metric[label] = value;
  }
  // Malformed values are passed on as they are: the reader marks the pod's utilization unknown.
  return { metric, values: Array.isArray(series.values) ? (series.values as MatrixSeries['values']) : [] };
}

export function createPrometheusClient(baseUrl: string, timeoutMs: number): PrometheusClient {
  const base = baseUrl.replace(/\/$/, '');
  const agent = keepAliveAgent(base);
  return {
    async queryMatrix(query, time) {
      const url = new URL(`${base}/api/v1/query`);
      url.searchParams.set('query', query);
      url.searchParams.set('time', String(time));
      const series: MatrixSeries[] = [];
      let rest: { status?: string; error?: string; data?: { resultType?: string } };
      try {
        const response = await send(url, {
          // Uncompressed: a fleet's answer is a few MB once a cycle on the cluster network, and gzip would
          // cost Prometheus and this replica more CPU than the transfer saves.
          headers: { 'accept-encoding': 'identity', accept: 'application/json' },
          agent,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!isOk(response)) {
          const text = await readText(response);
          let error = text.slice(0, 300) || 'no error text';
          try {
            error = (JSON.parse(text) as { error?: string }).error ?? error;
          } catch {
            // not Prometheus's JSON: keep the text
          }
          throw new PrometheusError(`query failed (${String(response.statusCode)}): ${error}`);
        }
        // The series are read one by one as they arrive and kept compact: the whole answer is never held.
        rest = (await streamJsonArray(response, ['data', 'result'], (s) =>
          series.push(compactSeries(s)),
        )) as typeof rest;
      } catch (cause) {
        if (cause instanceof PrometheusError) throw cause;
        throw new PrometheusError(`Prometheus at ${base} did not answer: ${(cause as Error).message}`, { cause });
      }
      if (rest.status !== 'success') {
        throw new PrometheusError(`query failed: ${rest.error ?? 'no error text'}`);
      }
      if (rest.data?.resultType !== 'matrix') {
        throw new PrometheusError(`expected a matrix result, got ${rest.data?.resultType ?? 'nothing'}`);
      }
      return series;
    },
  };
}
