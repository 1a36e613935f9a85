import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { refreshedFile } from './refreshed-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'refreshed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('refreshedFile', () => {
  it('keeps its copy for ttlMs, then reads the file again', async () => {
    const path = join(dir, 'token');
    writeFileSync(path, 'one');
    let nowMs = 0;
    const file = refreshedFile(path, 5000, () => nowMs);
    expect((await file.read()).toString()).toBe('one');
    writeFileSync(path, 'two');
    nowMs = 4999;
    expect((await file.read()).toString()).toBe('one');
    nowMs = 5000;
    expect((await file.read()).toString()).toBe('two');
  });

  it('shares one read among requests that start together', async () => {
    const path = join(dir, 'shared');
    writeFileSync(path, 'x');
    const file = refreshedFile(path, 0, () => 0);
    const [a, b] = await Promise.all([file.read(), file.read()]);
    expect(a).toBe(b);
  });

  it('names the path and the error code, never the content, when it cannot read', async () => {
    const file = refreshedFile(join(dir, 'gone'), 5000, () => 0);
    await expect(file.read()).rejects.toThrow(`cannot read ${join(dir, 'gone')}: ENOENT`);
  });
});
