import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusClient, PrometheusError } from './prometheus-client.ts';

/** Answers by query text, as Prometheus's HTTP API would. */
const answers: Record<string, { status: number; body: string; delayMs?: number }> = {};
let server: Server;
let base = '';
let lastEncoding: string | undefined;
let lastAuthorization: string | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
    lastEncoding = req.headers['accept-encoding'];
    lastAuthorization = req.headers.authorization;
    const answer = answers[query] ?? { status: 404, body: 'not found' };
    setTimeout(() => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      // Sent in small pieces, as a large answer arrives.
      for (let i = 0; i < answer.body.length; i += 7) res.write(answer.body.slice(i, i + 7));
      res.end();
    }, answer.delayMs ?? 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise((r) => server.close(r)));

const dcgmLabels = (pod: string) => ({
  __name__: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
  Hostname: 'gpu-node-1',
  UUID: 'GPU-5e3a-…',
  gpu: '0',
  modelName: 'NVIDIA A100-SXM4-40GB',
  namespace: 'monitoring',
  pod: 'dcgm-exporter-abc',
  exported_namespace: 'ml',
  exported_pod: pod,
});

describe('createPrometheusClient', () => {
  it('returns every series with only the labels that join samples to pods, and the raw samples', async () => {
    answers.ok = {
      status: 200,
      body: JSON.stringify({
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: dcgmLabels('train-0'),
              values: [
                [1700000000.5, '0.25'],
                [1700000005.5, '0.75'],
              ],
            },
            { metric: { pod: 'serve-1', namespace: 'ml', gpu: '1' }, values: [[1700000000.5, 'NaN']] },
          ],
        },
      }),
    };
    const series = await createPrometheusClient({ url: base, timeoutMs: 5000 }).queryMatrix('ok', 1700000010);
    expect(series).toEqual([
      {
        metric: {
          pod: 'dcgm-exporter-abc',
          namespace: 'monitoring',
          exported_pod: 'train-0',
          exported_namespace: 'ml',
        },
        values: [
          [1700000000.5, '0.25'],
          [1700000005.5, '0.75'],
        ],
      },
      { metric: { pod: 'serve-1', namespace: 'ml' }, values: [[1700000000.5, 'NaN']] },
    ]);
    expect(lastEncoding).toBe('identity');
  });

  it('returns an instant vector with each series one sample, keeping the model labels', async () => {
    answers['sum(x)'] = {
      status: 200,
      body: JSON.stringify({
        status: 'success',
        data: {
          resultType: 'vector',
          result: [
            {
              metric: { pod: 'llm-0', namespace: 'ml', model_name: 'llama-3-8b', job: 'vllm' },
              value: [1700000010, '1200'],
            },
            { metric: { pod: 'triton-0', namespace: 'ml', model: 'resnet', version: '1' }, value: [1700000010, '7'] },
          ],
        },
      }),
    };
    const client = createPrometheusClient({ url: base, timeoutMs: 5000 });
    expect(await client.queryVector('sum(x)', 1700000010)).toEqual([
      { metric: { pod: 'llm-0', namespace: 'ml', model_name: 'llama-3-8b' }, values: [[1700000010, '1200']] },
      { metric: { pod: 'triton-0', namespace: 'ml', model: 'resnet' }, values: [[1700000010, '7']] },
    ]);
    // Each kind of answer only where it is asked for.
    await expect(client.queryMatrix('sum(x)', 1)).rejects.toThrow('expected a matrix result, got vector');
    answers.range = {
      status: 200,
      body: JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }),
    };
    await expect(client.queryVector('range', 1)).rejects.toThrow('expected a vector result, got matrix');
  });

  it("reports Prometheus's own error text for a rejected query", async () => {
    answers.bad = {
      status: 400,
      body: JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }),
    };
    await expect(createPrometheusClient({ url: base, timeoutMs: 5000 }).queryMatrix('bad', 1)).rejects.toThrow(
      'query failed (400): parse error at char 3',
    );
  });

  it('rejects a result that is not a matrix, a truncated answer and a timeout', async () => {
    const client = createPrometheusClient({ url: base, timeoutMs: 300 });
    answers.vector = {
      status: 200,
      body: JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }),
    };
    await expect(client.queryMatrix('vector', 1)).rejects.toThrow('expected a matrix result, got vector');
    answers.cut = { status: 200, body: '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{}' };
    await expect(client.queryMatrix('cut', 1)).rejects.toThrow(PrometheusError);
    answers.slow = { status: 200, body: '{}', delayMs: 2000 };
    await expect(client.queryMatrix('slow', 1)).rejects.toThrow(/did not answer/);
  });
});

describe('credentials in the URL', () => {
  it('are sent as basic auth and never shown: the error names the server without them', async () => {
    answers.fails = { status: 503, body: 'unavailable' };
    const withUser = base.replace('http://', 'http://alice:s3cr%40t@');
    const client = createPrometheusClient({ url: withUser, timeoutMs: 5000 });
    await expect(client.queryMatrix('fails', 1)).rejects.toThrow('query failed (503): unavailable');
    expect(lastAuthorization).toBe(`Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
    const refused = createPrometheusClient({ url: 'http://alice:s3cr%40t@127.0.0.1:1', timeoutMs: 5000 });
    const error = await refused.queryMatrix('up', 1).then(
      () => 'answered',
      (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
    );
    expect(error).toMatch(
      /^PrometheusError: Prometheus at http:\/\/127\.0\.0\.1:1 did not answer: connect ECONNREFUSED/,
    );
    expect(error).not.toContain('s3cr');
  });
});
