/**
 * A Prometheus HTTP API on a local port for tests that run a command end to end: instant queries answered from
 * a table by query text (a query not in it gets an empty vector, as Prometheus answers for no data). The
 * queries asked are recorded, so a test can check what was sent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: string;
}

export interface PrometheusServer {
  readonly url: string;
  readonly answers: Map<string, readonly VectorSample[]>;
  readonly queries: string[];
  close(): Promise<void>;
}

export async function startPrometheusServer(): Promise<PrometheusServer> {
  const answers = new Map<string, readonly VectorSample[]>();
  const queries: string[] = [];
  const server = createServer((req, res) => {
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    const query = params.get('query') ?? '';
    queries.push(query);
    const time = Number(params.get('time'));
    const result = (answers.get(query) ?? []).map((s) => ({ metric: s.metric, value: [time, s.value] }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers,
    queries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
