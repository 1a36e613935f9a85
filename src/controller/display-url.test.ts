import { describe, expect, it } from 'vitest';
import { displayUrl } from './display-url.ts';

describe('displayUrl', () => {
  it.each([
    ['https://alice:s3cret@prom.example:8443/prometheus', 'https://prom.example:8443/prometheus'],
    ['https://alice@prom.example/', 'https://prom.example/'],
    ['https://:s3cret@prom.example/', 'https://prom.example/'],
    ['https://u%40x:p%3Aw@prom.example/api', 'https://prom.example/api'],
    ['http://prom/api?token=abc&tenant=a', 'http://prom/api?token=REDACTED&tenant=a'],
    [
      'http://prom/?access_token=abc&api_key=k&X-Amz-Signature=s',
      'http://prom/?access_token=REDACTED&api_key=REDACTED&X-Amz-Signature=REDACTED',
    ],
    ['http://prom/?query=up&time=1', 'http://prom/?query=up&time=1'],
    ['http://prom/#secret-fragment', 'http://prom/'],
  ])('%s -> %s', (url, shown) => {
    expect(displayUrl(url)).toBe(shown);
    expect(displayUrl(new URL(url))).toBe(shown);
  });

  it('gives a URL with nothing to hide as it was written', () => {
    expect(displayUrl('http://prometheus:9090')).toBe('http://prometheus:9090');
    expect(displayUrl('ftp://prom')).toBe('ftp://prom');
    expect(displayUrl(new URL('http://prometheus:9090'))).toBe('http://prometheus:9090/');
  });

  it('scrubs what does not parse as a URL the same way', () => {
    expect(displayUrl('ftp//alice:s3cret@x')).toBe('ftp//x');
    expect(displayUrl('not a url //alice:s3cret@host?password=pw&q=1')).toBe('not a url //host?password=REDACTED&q=1');
  });

  it('never returns the password of any user info', () => {
    for (const password of ['s3cret', 'p@ss', 'a:b', '%2F%2F', 'x y']) {
      const url = `https://user:${encodeURIComponent(password)}@host/p`;
      expect(displayUrl(url)).not.toContain(encodeURIComponent(password));
    }
  });
});
