import { describe, expect, it } from 'vitest';
import { decodeXmlText, parseErrorBody, parseListPage } from './s3-xml.ts';

const page = (contents: string, tail: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
  `<Name>ledger</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>${tail}${contents}</ListBucketResult>`;
const entry = (key: string) =>
  `<Contents><Key>${key}</Key><LastModified>2026-11-09T00:00:00.000Z</LastModified><ETag>&quot;x&quot;</ETag>` +
  `<Size>3</Size><Owner><ID>1</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>`;

describe('parseListPage', () => {
  it('reads the keys and the continuation token of a truncated page', () => {
    const xml = page(
      entry('p/a') + entry('p/b'),
      '<IsTruncated>true</IsTruncated><NextContinuationToken>t/1=</NextContinuationToken>',
    );
    expect(parseListPage(xml)).toEqual({ keys: ['p/a', 'p/b'], nextToken: 't/1=' });
  });

  it('has no token on the last page, and no keys when empty', () => {
    expect(parseListPage(page(entry('p/a'), '<IsTruncated>false</IsTruncated>'))).toEqual({
      keys: ['p/a'],
      nextToken: undefined,
    });
    expect(parseListPage(page('', '<IsTruncated>false</IsTruncated>'))).toEqual({ keys: [], nextToken: undefined });
  });

  it('decodes the entities of keys', () => {
    const xml = page(
      entry('p/a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#x20AC;&#38;'),
      '<IsTruncated>false</IsTruncated>',
    );
    expect(parseListPage(xml).keys).toEqual([`p/a & b <c> "d" 'e' €&`]);
  });

  it('refuses a body that is not a listing, and a truncated page without a token', () => {
    expect(() => parseListPage('<html>proxy error</html>')).toThrow('not a ListBucketResult');
    expect(() => parseListPage(page(entry('a'), '<IsTruncated>true</IsTruncated>'))).toThrow(
      'no NextContinuationToken',
    );
  });
});

describe('parseErrorBody', () => {
  it.each([
    [
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a</Key></Error>',
      { code: 'NoSuchKey', message: 'The specified key does not exist.' },
    ],
    ['<Error><Code>AccessDenied</Code><Message/></Error>', { code: 'AccessDenied', message: '' }],
    ['', { code: '', message: '' }],
    ['<html>502 Bad Gateway</html>', { code: '', message: '' }],
  ])('%s', (xml, expected) => {
    expect(parseErrorBody(xml)).toEqual(expected);
  });
});

describe('decodeXmlText', () => {
  it('leaves unknown entities and plain text alone', () => {
    expect(decodeXmlText('a &nbsp; b')).toBe('a &nbsp; b');
    expect(decodeXmlText('plain')).toBe('plain');
  });
});
