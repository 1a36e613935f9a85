/**
 * The sink the --ledger flag names: a directory (relative to the working directory, created if missing), or
 * an S3-compatible bucket and prefix.
 */
import { LocalSink } from './local-sink.ts';
import type { ObjectSink } from './sink.ts';

export async function openSink(urlOrDir: string): Promise<ObjectSink> {
  if (/^s3:\/\//i.test(urlOrDir))
    throw new Error(
      `--ledger ${urlOrDir}: the S3 sink lands with the object-store sink of issue #15; use a directory for now`,
    );
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrDir))
    throw new Error(`--ledger ${urlOrDir}: not a directory or an s3:// URL`);
  return LocalSink.open(urlOrDir);
}
