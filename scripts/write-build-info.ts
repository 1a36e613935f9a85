/**
 * Stamps dist/build-info.json with {version, commit} after tsc, in `npm run build`: what `aicost version` and the
 * aicost_build_info metric report. The commit is $GIT_COMMIT when set (the container build passes it: the image
 * has no .git), else `git rev-parse HEAD` of this checkout, else "unknown".
 *   node scripts/write-build-info.ts [DIR]   writes DIR/build-info.json (default dist/)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUILD_INFO_FILE, commitToStamp } from '../src/build-info.ts';

const ROOT = resolve(import.meta.dirname, '..');

function gitHead(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined; // not a checkout, or no git
  }
}

const { version } = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
const stamp = { version, commit: commitToStamp(process.env.GIT_COMMIT, gitHead) };
const dir = process.argv[2] === undefined ? resolve(ROOT, 'dist') : resolve(process.argv[2]);
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, BUILD_INFO_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
console.log(`${resolve(dir, BUILD_INFO_FILE)}: version ${stamp.version}, commit ${stamp.commit}`);
