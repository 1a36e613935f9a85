import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitToStamp, loadBuildInfo } from './build-info.ts';

/** A package directory with package.json and, when given, a stamped dist/build-info.json. */
function packageDir(stamp?: string): string {
  const root = mkdtempSync(join(tmpdir(), 'aicost-build-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'aicost-operator', version: '1.2.3' }));
  mkdirSync(join(root, 'dist'));
  mkdirSync(join(root, 'src'));
  if (stamp !== undefined) writeFileSync(join(root, 'dist', 'build-info.json'), stamp);
  return root;
}

describe('build info', () => {
  it.each<[string | undefined, string | undefined, string]>([
    ['0123abc', 'ffff', '0123abc'],
    [' 0123abc\n', undefined, '0123abc'],
    [undefined, 'ffff\n', 'ffff'],
    ['', 'ffff', 'ffff'],
    [undefined, undefined, 'unknown'],
    [undefined, '', 'unknown'],
  ])('stamps $GIT_COMMIT %j over git HEAD %j: %j', (env, head, commit) => {
    expect(commitToStamp(env, () => head)).toBe(commit);
  });

  it('reads the stamp next to a built main', () => {
    const root = packageDir(JSON.stringify({ version: '1.2.4', commit: 'cafe' }));
    expect(loadBuildInfo(join(root, 'dist'), 'v24.1.0')).toEqual({
      version: '1.2.4',
      commit: 'cafe',
      nodeVersion: 'v24.1.0',
    });
  });

  it('from source: the version of package.json, the commit unknown', () => {
    const root = packageDir();
    expect(loadBuildInfo(join(root, 'src'), 'v24.1.0')).toEqual({
      version: '1.2.3',
      commit: 'unknown',
      nodeVersion: 'v24.1.0',
    });
    // A build without the stamp (plain tsc) says the same.
    expect(loadBuildInfo(join(root, 'dist'), 'v24.1.0').commit).toBe('unknown');
  });

  it('names a broken stamp, with the parse error as the cause', () => {
    const root = packageDir('{"version": 1}');
    const load = () => loadBuildInfo(join(root, 'dist'), 'v24.1.0');
    expect(load).toThrow(`cannot read the build information in ${join(root, 'dist', 'build-info.json')}`);
    expect(() => {
      try {
        load();
      } catch (error) {
        throw (error as Error).cause;
      }
    }).toThrow(/version/);
  });
});
