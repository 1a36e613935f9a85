/**
 * The sink the --ledger flag names: a directory (relative to the working directory, created if missing), or
 * an S3-compatible bucket and prefix, with the settings config/ read from the AWS_* variables.
 */
import { LocalSink } from './local-sink.ts';
import type { S3Settings } from './s3-settings.ts';
import { createS3Sink } from './s3-sink.ts';
import type { ObjectSink } from './sink.ts';

export async function openSink(urlOrDir: string, s3?: S3Settings): Promise<ObjectSink> {
  if (/^s3:\/\//i.test(urlOrDir)) {
    if (!s3) throw new Error(`--ledger ${urlOrDir}: an s3:// ledger needs its AWS_* settings`);
    return createS3Sink({ url: urlOrDir, ...s3 });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrDir))
    throw new Error(`--ledger ${urlOrDir}: not a directory or an s3:// URL`);
  return LocalSink.open(urlOrDir);
}
