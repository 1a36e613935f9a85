import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSink } from './local-sink.ts';
import { keyProblem } from './sink.ts';

let dir = '';
let sink: LocalSink;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aicost-sink-'));
  sink = await LocalSink.open(join(dir, 'ledger', 'nested'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array | undefined) => (body === undefined ? undefined : new TextDecoder().decode(body));

describe('keyProblem', () => {
  it.each([
    ['cluster=a/date=2026-11-01/window-20261101T130000Z.parquet', undefined],
    ['a', undefined],
    ['', 'is empty'],
    ['/abs', 'is absolute'],
    ['a//b', "has an empty, '.' or '..' segment"],
    ['a/', "has an empty, '.' or '..' segment"],
    ['../x', "has an empty, '.' or '..' segment"],
    ['a/../../x', "has an empty, '.' or '..' segment"],
    ['a/./b', "has an empty, '.' or '..' segment"],
    ['a\\b', "holds '\\' or a control character"],
    ['a\nb', "holds '\\' or a control character"],
    ['é'.repeat(513), 'is longer than 1024 bytes'],
  ])('%j: %s', (key, problem) => {
    expect(keyProblem(key)).toBe(problem);
  });
});

describe('LocalSink', () => {
  it('creates its directory and names it as a file URL', async () => {
    expect((await stat(join(dir, 'ledger', 'nested'))).isDirectory()).toBe(true);
    expect(sink.url).toBe(`file://${join(dir, 'ledger', 'nested')}`);
  });

  it('puts, replaces and gets objects; subdirectories for /', async () => {
    await sink.put('a/b/c.parquet', bytes('one'));
    expect(text(await sink.get('a/b/c.parquet'))).toBe('one');
    await sink.put('a/b/c.parquet', bytes('two'));
    expect(text(await sink.get('a/b/c.parquet'))).toBe('two');
    expect(await readdir(join(dir, 'ledger', 'nested', 'a', 'b'))).toEqual(['c.parquet']);
  });

  it('gets undefined for a missing key, a directory, or a path through a file', async () => {
    await sink.put('a/b', bytes('x'));
    expect(await sink.get('missing')).toBeUndefined();
    expect(await sink.get('a')).toBeUndefined();
    expect(await sink.get('a/b/c')).toBeUndefined();
  });

  it('lists every key under a prefix, recursively and sorted, without temporary files', async () => {
    for (const key of ['c/2', 'a/x/1', 'a/y', 'ab', 'a/x/0', 'b']) await sink.put(key, bytes(key));
    await writeFile(join(dir, 'ledger', 'nested', 'a', '.pending.tmp'), 'partial');
    expect(await sink.list('')).toEqual(['a/x/0', 'a/x/1', 'a/y', 'ab', 'b', 'c/2']);
    expect(await sink.list('a/')).toEqual(['a/x/0', 'a/x/1', 'a/y']);
    expect(await sink.list('a')).toEqual(['a/x/0', 'a/x/1', 'a/y', 'ab']);
    expect(await sink.list('a/x/1')).toEqual(['a/x/1']);
    expect(await sink.list('a/z')).toEqual([]);
    expect(await sink.list('nothing/here/')).toEqual([]);
  });

  it('deletes, quietly when absent, and prunes the directories left empty', async () => {
    await sink.put('a/b/c', bytes('x'));
    await sink.put('a/d', bytes('y'));
    await sink.delete('a/b/c');
    await sink.delete('a/b/c');
    await sink.delete('never/was');
    expect(await sink.list('')).toEqual(['a/d']);
    expect(await readdir(join(dir, 'ledger', 'nested', 'a'))).toEqual(['d']);
    await sink.delete('a/d');
    expect(await readdir(join(dir, 'ledger', 'nested'))).toEqual([]);
  });

  it.each(['../escape', '/etc/passwd', 'a/../../b', '.hidden', 'a/.tmp', 'a\\b', ''])(
    'refuses the key %j',
    async (key) => {
      await expect(sink.put(key, bytes('x'))).rejects.toThrow(/object key/);
      await expect(sink.get(key)).rejects.toThrow(/object key/);
      await expect(sink.delete(key)).rejects.toThrow(/object key/);
    },
  );

  it('refuses a prefix that leaves the root', async () => {
    await expect(sink.list('../')).rejects.toThrow(/object key/);
  });

  it('leaves no temporary file when a put fails', async () => {
    await mkdir(join(dir, 'ledger', 'nested', 'a', 'dir'), { recursive: true });
    await expect(sink.put('a/dir', bytes('x'))).rejects.toThrow('cannot write a/dir');
    expect(await readdir(join(dir, 'ledger', 'nested', 'a'))).toEqual(['dir']);
  });

  it('shows a reader the old object or a new one whole, never part', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => new Uint8Array(256 * 1024).fill(i + 1));
    await sink.put('k', bodies[0] ?? new Uint8Array());
    const reads: (Uint8Array | undefined)[] = [];
    await Promise.all([
      ...bodies.map((body) => sink.put('k', body)),
      ...bodies.map(async () => reads.push(await sink.get('k'))),
    ]);
    for (const read of reads) {
      const first = read?.[0] ?? 0;
      expect(read?.length).toBe(256 * 1024);
      expect(read?.every((b) => b === first)).toBe(true);
    }
    expect(await sink.list('')).toEqual(['k']);
  });
});
