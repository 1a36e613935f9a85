/**
 * Which build is running: the package version, the git commit it was built from, and the Node.js running it,
 * for `aicost version` and the aicost_build_info metric. `npm run build` stamps dist/build-info.json
 * (scripts/write-build-info.ts); run from source there is no stamp, so the version comes from package.json and
 * the commit is "unknown" (the operator runs no git command at start-up).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
  readonly nodeVersion: string;
}

export const BUILD_INFO_FILE = 'build-info.json';
export const UNKNOWN_COMMIT = 'unknown';

const stampSchema = z.object({ version: z.string().min(1), commit: z.string().min(1) });
const packageSchema = z.object({ version: z.string().min(1) });

/** `mainDir` is the directory main runs from: dist/ when built (the stamp is there), src/ in a checkout. */
export function loadBuildInfo(mainDir: string, nodeVersion: string): BuildInfo {
  const stampPath = join(mainDir, BUILD_INFO_FILE);
  if (existsSync(stampPath)) {
    const { version, commit } = readJson(stampPath, stampSchema);
    return { version, commit, nodeVersion };
  }
  const { version } = readJson(join(mainDir, '..', 'package.json'), packageSchema);
  return { version, commit: UNKNOWN_COMMIT, nodeVersion };
}

function readJson<T>(path: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (cause) {
    throw new Error(`cannot read the build information in ${path}`, { cause });
  }
}

/**
 * The commit to stamp at build time: `gitCommitEnv` ($GIT_COMMIT) when set, since a container build has no
 * .git to ask; else the checkout's HEAD; else "unknown".
 */
export function commitToStamp(gitCommitEnv: string | undefined, gitHead: () => string | undefined): string {
  const fromEnv = gitCommitEnv?.trim();
  if (fromEnv) return fromEnv;
  return gitHead()?.trim() || UNKNOWN_COMMIT;
}
