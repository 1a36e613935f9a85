/** A minimal Prometheus HTTP API client: instant queries with a timeout. */
import { fetch } from 'undici';
import type { MatrixSeries } from './gpu-utilization.ts';

export interface PrometheusClient {
  /** Runs an instant query returning a range vector (matrix) at `time` (epoch seconds). */
  queryMatrix(query: string, time: number): Promise<MatrixSeries[]>;
}

export class PrometheusError extends Error {
  override readonly name = 'PrometheusError';
}

export function createPrometheusClient(baseUrl: string, timeoutMs: number): PrometheusClient {
  const base = baseUrl.replace(/\/$/, '');
  return {
    async queryMatrix(query, time) {
      const url = new URL(`${base}/api/v1/query`);
      url.searchParams.set('query', query);
      url.searchParams.set('time', String(time));
      let body: { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        body = (await response.json()) as typeof body;
        if (!response.ok || body.status !== 'success') {
          throw new PrometheusError(`query failed (${response.status}): ${body.error ?? 'no error text'}`);
        }
      } catch (cause) {
        if (cause instanceof PrometheusError) throw cause;
        throw new PrometheusError(`Prometheus at ${base} did not answer: ${(cause as Error).message}`, { cause });
      }
      if (body.data?.resultType !== 'matrix' || !Array.isArray(body.data.result)) {
        throw new PrometheusError(`expected a matrix result, got ${body.data?.resultType ?? 'nothing'}`);
      }
      return body.data.result as MatrixSeries[];
    },
  };
}
