/**
 * The one place that turns a `--ledger` value into an ObjectSink: a directory (or a file:// URL) is a
 * LocalSink; an s3:// URL is an S3 sink, with the endpoint, region and credentials config/ read from the
 * AWS_* variables (s3-settings.ts).
 */
import { fileURLToPath } from 'node:url';
import { displayUrl } from '../controller/display-url.ts';
import { LocalSink } from './local-sink.ts';
import type { S3Settings } from './s3-settings.ts';
import { createS3Sink } from './s3-sink.ts';
import type { ObjectSink } from './sink.ts';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

export async function openSink(urlOrDir: string, s3?: S3Settings): Promise<ObjectSink> {
  if (urlOrDir === '') throw new Error('the ledger location is empty: give a directory or an s3:// URL');
  const scheme = SCHEME.exec(urlOrDir)?.[1]?.toLowerCase();
  if (scheme === undefined) return LocalSink.open(urlOrDir);
  if (scheme === 'file') return LocalSink.open(fileURLToPath(urlOrDir));
  if (scheme === 's3') {
    if (!s3) throw new Error(`--ledger ${urlOrDir}: an s3:// ledger needs its AWS_* settings`);
    return createS3Sink({ url: urlOrDir, ...s3 });
  }
  throw new Error(`${displayUrl(urlOrDir)}: a ledger is a directory or an s3://bucket/prefix URL, not ${scheme}://`);
}

/** The directory of a sink on the local file system, for readers that open its files directly (DuckDB). */
export function localDirectory(sink: ObjectSink): string | undefined {
  return sink.url.startsWith('file://') ? fileURLToPath(sink.url) : undefined;
}
