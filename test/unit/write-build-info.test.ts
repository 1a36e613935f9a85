/** scripts/write-build-info.ts, as `npm run build` runs it: the commit from $GIT_COMMIT, else this checkout's HEAD. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

function stamp(gitCommit: string | undefined): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'aicost-stamp-'));
  const env = { ...process.env };
  delete env.GIT_COMMIT;
  if (gitCommit !== undefined) env.GIT_COMMIT = gitCommit;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/write-build-info.ts'), dir], { env, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(dir, 'build-info.json'), 'utf8'));
}

describe('write-build-info', () => {
  it('stamps $GIT_COMMIT when the build sets it', () => {
    expect(stamp('0123456789abcdef')).toEqual({ version, commit: '0123456789abcdef' });
  });

  it("stamps the checkout's HEAD otherwise", () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    expect(stamp(undefined)).toEqual({ version, commit: head });
  });
});
