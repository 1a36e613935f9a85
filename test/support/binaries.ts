/**
 * Where test/cluster/build-binaries.sh puts the local cluster's binaries: the same cache key, computed from
 * test/cluster/versions.sh, so tests find helm (and the rest) without a second list of versions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** A variable that test/cluster/versions.sh sets to a plain value. */
function pinned(name: string): string {
  const text = readFileSync(join(ROOT, 'test/cluster/versions.sh'), 'utf8');
  const m = new RegExp(`^${name}=(\\S+)`, 'm').exec(text);
  if (!m?.[1]) throw new Error(`test/cluster/versions.sh does not set ${name}`);
  return m[1];
}

const cacheDir = (env: NodeJS.ProcessEnv): string =>
  env.AICOST_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? '/tmp', '.cache'), 'aicost');

export function binDir(env: NodeJS.ProcessEnv = process.env): string {
  const key =
    `k8s-${pinned('K8S_VERSION')}_etcd-${pinned('ETCD_VERSION')}` +
    `_kwok-${pinned('KWOK_VERSION')}_helm-${pinned('HELM_VERSION')}`;
  return join(cacheDir(env), 'bin', key);
}

/** Where test/s3/build-weed.sh puts SeaweedFS's weed: WEED_BIN_DIR of versions.sh. */
export function weedBinary(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), 'bin', `weed-${pinned('WEED_VERSION')}`, 'weed');
}

/** The helm binary; throws with what to run when it has not been built. */
export function helmBinary(): string {
  const path = join(binDir(), 'helm');
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run cluster:build" (npm test does it first)`);
  return path;
}
