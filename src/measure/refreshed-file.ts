/**
 * A small file (a token, a password, a certificate) read again once its copy is `ttlMs` old. Credentials
 * mounted from a Secret or projected by the kubelet change under a running process: a service account token
 * is rotated well before it expires, and a Secret's volume is updated within a minute or so of an edit. A
 * read on each request would also do, but Prometheus is asked a few times a cycle and a policy pass can ask
 * once per workload: a few seconds' copy costs nothing and still follows a rotation long before the old
 * credential stops working.
 */
import { readFile } from 'node:fs/promises';

export const CREDENTIAL_TTL_MS = 5_000;

export interface RefreshedFile {
  /** The file's bytes, read now or at most `ttlMs` ago; rejects (naming the path, not the content) if unreadable. */
  read(): Promise<Buffer>;
}

export function refreshedFile(path: string, ttlMs: number, nowMs: () => number): RefreshedFile {
  let copy: { bytes: Buffer; readAtMs: number } | undefined;
  let pending: Promise<Buffer> | undefined;
  const load = async (): Promise<Buffer> => {
    try {
      const bytes = await readFile(path);
      copy = { bytes, readAtMs: nowMs() };
      return bytes;
    } catch (cause) {
      throw new Error(`cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
    } finally {
      pending = undefined;
    }
  };
  return {
    read() {
      if (copy && nowMs() - copy.readAtMs < ttlMs) return Promise.resolve(copy.bytes);
      // Requests that start together share one read.
      pending ??= load();
      return pending;
    },
  };
}
