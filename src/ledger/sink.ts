/**
 * Where the ledger's objects are kept: a local directory (local-sink.ts) or an S3-compatible bucket
 * (s3-sink.ts). Keys are relative paths with '/' between segments, the same in every sink, so a directory
 * copied into a bucket is the same ledger.
 */
export interface ObjectSink {
  /** Writes the whole object, replacing any previous one at that key, atomically (readers see old or new, never part). */
  put(key: string, body: Uint8Array): Promise<void>;
  /** undefined when absent. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every key under the prefix (recursive), sorted. */
  list(prefix: string): Promise<string[]>;
  /** No error when absent. */
  delete(key: string): Promise<void>;
  /** For logs and status: 'file:///abs/dir' or 's3://bucket/prefix'. */
  readonly url: string;
}

/**
 * Why a key cannot name an object in every sink, or undefined when it can: non-empty segments, none '.' or
 * '..', no leading '/', no '\' (a separator on Windows), no control characters, at most 1024 bytes (S3's limit).
 */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (Buffer.byteLength(key) > 1024) return 'is longer than 1024 bytes';
  if (key.startsWith('/')) return 'is absolute';
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\\\u0000-\u001f\u007f]/.test(key)) return "holds '\\' or a control character";
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) return "has an empty, '.' or '..' segment";
  return undefined;
}

/** Throws when keyProblem finds one. */
export function checkKey(key: string): string {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new Error(`object key ${JSON.stringify(key)} ${problem}`);
  return key;
}
