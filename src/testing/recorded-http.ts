/**
 * A local node:http server that answers with recorded cloud answers, for the price clients' tests: no cloud
 * is reachable from the test machines. Each request is kept (method, URL, headers, body) for the test to check
 * what the client sent; `answer` decides the reply from the request and its number.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatMoney } from '../cost/money.ts';

export interface RecordedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Reply {
  readonly status?: number;
  readonly body: string;
  readonly type?: string;
}

export interface RecordedServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  readonly base: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A fixture of src/pricing/fixtures, with {{BASE}} replaced by the server's URL. */
export const fixture = (name: string, base = ''): string =>
  readFileSync(new URL(`../pricing/fixtures/${name}`, import.meta.url), 'utf8').replaceAll('{{BASE}}', base);

export async function recordedServer(
  answer: (request: RecordedRequest, n: number, base: string) => Reply,
): Promise<RecordedServer> {
  const requests: RecordedRequest[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', base),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const reply = answer(request, requests.length, base);
      res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? 'application/json' });
      res.end(reply.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get base() {
      return base;
    },
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A price list as rows a table test compares: type, zone (else region), capacity, nano-exact price; sorted. */
export function priceRows(
  prices: readonly {
    instanceType: string;
    region: string;
    zone?: string | undefined;
    capacity: string;
    usdPerHour: bigint;
  }[],
): string[][] {
  return prices
    .map((p) => [p.instanceType, p.zone ?? p.region, p.capacity, formatMoney(p.usdPerHour, 9)])
    .sort((a, b) => a.join(' ').localeCompare(b.join(' ')));
}
