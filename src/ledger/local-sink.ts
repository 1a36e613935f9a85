/**
 * An ObjectSink on a local directory (the embedded default, or a PVC in the chart). A key's '/' are
 * subdirectories. A put writes a temporary file beside the target, fsyncs it, renames it over the target and
 * fsyncs the directory: rename is atomic, so a reader sees the old object or the new one, and after a crash
 * the object is whole or absent. Temporary files start with '.', which no key segment may, and list skips them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkKey, type ObjectSink } from './sink.ts';

export class LocalSink implements ObjectSink {
  readonly url: string;
  private readonly root: string;

  private constructor(root: string) {
    this.root = root;
    this.url = pathToFileURL(root).href;
  }

  /** The sink on `dir` (relative to the working directory), created when missing. */
  static async open(dir: string): Promise<LocalSink> {
    const root = resolve(dir);
    await mkdir(root, { recursive: true });
    return new LocalSink(root);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.path(key);
    const directory = dirname(path);
    const temp = join(directory, `.${randomUUID()}.tmp`);
    await writeSynced(directory, temp, body);
    try {
      await rename(temp, path);
    } catch (cause) {
      await unlink(temp).catch(() => undefined);
      throw new Error(`cannot write ${key} in ${this.url}`, { cause });
    }
    await syncDirectory(directory);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      // A directory or a path through a file is no object, as in an object store.
      if (hasCode(error, 'ENOENT', 'EISDIR', 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    // Any key that starts with the prefix is a valid key, and so is the prefix followed by one character.
    if (prefix !== '') this.path(`${prefix}x`);
    const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const keys: string[] = [];
    await this.walk(base, prefix, keys);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    try {
      await unlink(path);
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) return;
      throw error;
    }
    await this.pruneEmpty(dirname(path));
  }

  /** The file of a key; throws on a key that could leave the root or name a temporary file. */
  private path(key: string): string {
    checkKey(key);
    if (key.split('/').some((segment) => segment.startsWith('.')))
      throw new Error(`object key ${JSON.stringify(key)} has a segment starting with '.' (kept for temporary files)`);
    return join(this.root, ...key.split('/'));
  }

  private async walk(relative: string, prefix: string, keys: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(this.root, ...relative.split('/')), { withFileTypes: true });
    } catch (error) {
      if (hasCode(error, 'ENOENT', 'ENOTDIR')) return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const key = relative + entry.name;
      if (entry.isDirectory()) {
        // Only directories that can hold keys with the prefix.
        const dir = `${key}/`;
        if (dir.startsWith(prefix) || prefix.startsWith(dir)) await this.walk(dir, prefix, keys);
      } else if (entry.isFile() && key.startsWith(prefix)) keys.push(key);
    }
  }

  /** Removes directories a delete left empty, up to the root, so old partitions do not linger. */
  private async pruneEmpty(directory: string): Promise<void> {
    for (let dir = directory; dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone): the directories above are not empty either
      }
    }
  }
}

/**
 * Writes and fsyncs a new file. Creating its directory again covers a delete that pruned it meanwhile.
 */
async function writeSynced(directory: string, path: string, body: Uint8Array): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(directory, { recursive: true });
    let file;
    try {
      file = await open(path, 'wx');
    } catch (error) {
      if (attempt < 3 && hasCode(error, 'ENOENT')) continue;
      throw error;
    }
    try {
      await file.writeFile(body);
      await file.sync();
    } catch (error) {
      await file.close();
      await unlink(path).catch(() => undefined);
      throw error;
    }
    await file.close();
    return;
  }
}

/** Makes a rename in the directory durable. Some file systems cannot fsync a directory (EINVAL). */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!hasCode(error, 'EINVAL')) throw error;
  } finally {
    await handle.close();
  }
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof Error && 'code' in error && codes.includes(String(error.code));
}
