/**
 * The one place that turns a `--ledger` value into an ObjectSink: a directory (or a file:// URL) is a
 * LocalSink; an s3:// URL needs the S3 sink (src/ledger/s3-sink.ts), which this build does not have yet.
 * Adding it is two lines: import createS3Sink, and return createS3Sink(urlOrDir) where the error is thrown.
 */
import { fileURLToPath } from 'node:url';
import { LocalSink } from './local-sink.ts';
import type { ObjectSink } from './sink.ts';

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

export async function openSink(urlOrDir: string): Promise<ObjectSink> {
  if (urlOrDir === '') throw new Error('the ledger location is empty: give a directory or an s3:// URL');
  const scheme = SCHEME.exec(urlOrDir)?.[1]?.toLowerCase();
  if (scheme === undefined) return LocalSink.open(urlOrDir);
  if (scheme === 'file') return LocalSink.open(fileURLToPath(urlOrDir));
  if (scheme === 's3')
    throw new Error(
      `${urlOrDir}: s3:// ledgers need the S3 sink (src/ledger/s3-sink.ts), which this build does not include; ` +
        'give a directory, or copy the bucket into one (the keys are the same)',
    );
  throw new Error(`${urlOrDir}: a ledger is a directory or an s3://bucket/prefix URL, not ${scheme}://`);
}

/** The directory of a sink on the local file system, for readers that open its files directly (DuckDB). */
export function localDirectory(sink: ObjectSink): string | undefined {
  return sink.url.startsWith('file://') ? fileURLToPath(sink.url) : undefined;
}
