/**
 * The few fields the sink reads from S3's XML answers: a ListObjectsV2 page and an error. S3's XML is flat and
 * generated, so finding elements by name is enough, and an XML parser would be the operator's heaviest
 * dependency for three tags. Keys come back as XML text; their entities are decoded here.
 */

export interface ListPage {
  readonly keys: readonly string[];
  /** Set when the listing goes on: the next request's continuation-token. */
  readonly nextToken: string | undefined;
}

export interface S3ErrorBody {
  /** S3's error code, e.g. NoSuchKey, SignatureDoesNotMatch; '' when the body was not an S3 error. */
  readonly code: string;
  readonly message: string;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

/** The text of every <name>...</name>, decoded; an empty element <name/> gives ''. */
function elements(xml: string, name: string): string[] {
  const found: string[] = [];
  for (const m of xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([^<]*)</${name}>)`, 'g'))) {
    found.push(decodeXmlText(m[1] ?? ''));
  }
  return found;
}

/** One page of ListObjectsV2. Throws when the body is not a ListBucketResult (a proxy's HTML page, say). */
export function parseListPage(xml: string): ListPage {
  if (!xml.includes('<ListBucketResult')) {
    throw new Error(`the listing is not a ListBucketResult: ${JSON.stringify(xml.slice(0, 200))}`);
  }
  // <Key> only appears inside <Contents> (no delimiter is sent, so there are no CommonPrefixes).
  const keys = elements(xml, 'Key');
  const truncated = elements(xml, 'IsTruncated')[0] === 'true';
  const token = elements(xml, 'NextContinuationToken')[0];
  if (truncated && !token) throw new Error('the listing is truncated but has no NextContinuationToken');
  return { keys, nextToken: truncated ? token : undefined };
}

/** The code and message of an <Error> body; empty strings for anything else (HEAD answers have no body). */
export function parseErrorBody(xml: string): S3ErrorBody {
  if (!xml.includes('<Error')) return { code: '', message: '' };
  return { code: elements(xml, 'Code')[0] ?? '', message: elements(xml, 'Message')[0] ?? '' };
}
