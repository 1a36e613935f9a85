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
