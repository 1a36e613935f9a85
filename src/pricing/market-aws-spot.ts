/**
 * AWS EC2 DescribeSpotPriceHistory (Query API, version 2016-11-15), signed with SigV4 (src/ledger/sigv4.ts):
 * with StartTime now, EC2 answers the price in effect in each availability zone, as Karpenter's pricing provider
 * asks it. Linux/UNIX only; pages follow nextToken. The answer is XML; its flat, generated items are read by
 * element name (as src/ledger/s3-xml.ts reads S3's), then checked with zod.
 */
import { z } from 'zod';
import { decodeXmlText } from '../ledger/s3-xml.ts';
import { EMPTY_SHA256, signV4, type Credentials } from '../ledger/sigv4.ts';
import { fetchText, HttpAnswerError } from './market-http.ts';
import type { MarketClient } from './market-refresher.ts';
import { MarketAnswerError, parseUsd, type MarketPrice } from './market-table.ts';

const MAX_PAGES = 50;

export interface AwsSpotClientOptions {
  readonly region: string;
  readonly instanceTypes: readonly string[];
  readonly credentials: Credentials;
  readonly now: () => Date;
  /** Default https://ec2.<region>.amazonaws.com; tests point it at a local server. */
  readonly endpoint?: string;
}

const spotItem = z.object({
  instanceType: z.string().min(1),
  productDescription: z.string(),
  spotPrice: z.string(),
  timestamp: z.iso.datetime({ offset: true }),
  availabilityZone: z.string().min(1),
});

/** The text of each <name>…</name> directly in `xml` (no nesting of the same name in these answers). */
export function xmlElements(xml: string, name: string): string[] {
  const pattern = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>|<${name}(?:\\s[^>]*)?/>`, 'g');
  return [...xml.matchAll(pattern)].map((m) => m[1] ?? '');
}

const firstText = (xml: string, name: string): string | undefined => {
  const found = xmlElements(xml, name)[0];
  return found === undefined ? undefined : decodeXmlText(found.trim());
};

/** An EC2 error answer's code and message, for the failure's text. */
export function ec2Error(xml: string): string {
  return `${firstText(xml, 'Code') ?? 'unknown error'}: ${firstText(xml, 'Message') ?? ''}`;
}

export function parseSpotPage(xml: string, what: string): { items: z.infer<typeof spotItem>[]; nextToken?: string } {
  const set = xmlElements(xml, 'spotPriceHistorySet');
  if (!xml.includes('<DescribeSpotPriceHistoryResponse') || set.length !== 1) {
    throw new MarketAnswerError(`${what}: not a DescribeSpotPriceHistory answer`);
  }
  const items = xmlElements(set[0] ?? '', 'item').map((itemXml, i) => {
    const raw = Object.fromEntries(Object.keys(spotItem.shape).map((key) => [key, firstText(itemXml, key)] as const));
    const parsed = spotItem.safeParse(raw);
    if (!parsed.success) {
      throw new MarketAnswerError(`${what} item ${i + 1}: ${z.prettifyError(parsed.error)}`);
    }
    return parsed.data;
  });
  const token = firstText(xml.replace(set[0] ?? '', ''), 'nextToken');
  return token ? { items, nextToken: token } : { items };
}

export function awsSpotPriceClient(options: AwsSpotClientOptions): MarketClient {
  const { region } = options;
  const endpoint = new URL(options.endpoint ?? `https://ec2.${region}.amazonaws.com/`);
  const name = `aws-spot-price-history ${region}`;
  return {
    name,
    async fetchPrices(signal) {
      // Newest price per zone and type: with StartTime now EC2 gives one per pool, but a page boundary may
      // repeat one.
      const newest = new Map<string, { price: MarketPrice; at: string }>();
      let token: string | undefined;
      for (let n = 1; n === 1 || token !== undefined; n++) {
        if (n > MAX_PAGES) throw new MarketAnswerError(`${name}: more than ${MAX_PAGES} pages`);
        const what = `${name} page ${n}`;
        const query = spotQuery(options, token);
        const url = new URL(endpoint);
        for (const [key, value] of query) url.searchParams.append(key, value);
        const headers = signV4({
          method: 'GET',
          host: endpoint.host,
          path: endpoint.pathname,
          query,
          headers: {},
          payloadHash: EMPTY_SHA256,
          region,
          service: 'ec2',
          credentials: options.credentials,
          now: options.now(),
        });
        let xml: string;
        try {
          xml = await fetchText(url, { headers, signal }, what);
        } catch (error) {
          if (!(error instanceof HttpAnswerError) || !error.body.includes('<Code>')) throw error;
          throw new Error(`${what}: HTTP ${error.status}, ${ec2Error(error.body)}`, { cause: error });
        }
        const parsed = parseSpotPage(xml, what);
        for (const item of parsed.items) {
          if (item.productDescription !== 'Linux/UNIX') continue;
          const key = `${item.instanceType} ${item.availabilityZone}`;
          const seen = newest.get(key);
          if (seen && seen.at >= item.timestamp) continue;
          const price: MarketPrice = {
            provider: 'aws',
            instanceType: item.instanceType,
            region,
            zone: item.availabilityZone,
            capacity: 'spot',
            usdPerHour: parseUsd(item.spotPrice, `${what} ${item.instanceType}`),
          };
          newest.set(key, { price, at: item.timestamp });
        }
        token = parsed.nextToken;
      }
      return [...newest.values()].map((e) => e.price);
    },
  };
}

function spotQuery(options: AwsSpotClientOptions, token: string | undefined): [string, string][] {
  const query: [string, string][] = [
    ['Action', 'DescribeSpotPriceHistory'],
    ['Version', '2016-11-15'],
    ['StartTime', options.now().toISOString()],
    ['ProductDescription.1', 'Linux/UNIX'],
    ['MaxResults', '1000'],
  ];
  options.instanceTypes.forEach((type, i) => query.push([`InstanceType.${i + 1}`, type]));
  if (token !== undefined) query.push(['NextToken', token]);
  return query;
}
