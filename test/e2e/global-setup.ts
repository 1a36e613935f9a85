/**
 * Gives the e2e tests a cluster, once per run.
 *
 * - AICOST_E2E_EXISTING_CLUSTER=1 with KUBECONFIG: that cluster is used as it is (e.g. kind where Docker
 *   exists), with PROMETHEUS_URL if set; tests that need Prometheus skip without it.
 * - Otherwise test/cluster/up.sh starts the local GPU cluster, or reuses the one already up. At the end it is
 *   stopped only if this setup started it (AICOST_KEEP_CLUSTER=1 keeps it); a cluster that was up stays up.
 *
 * Tests read the coordinates with inject('kubeconfig' | 'prometheusUrl' | 'logDir') (support/cluster.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absolute path of the cluster's kubeconfig. */
    kubeconfig: string;
    /** Base URL of Prometheus (scraping the DCGM simulator); empty when the run has none. */
    prometheusUrl: string;
    /** Folder of the cluster's component logs; tests put operator logs there too. */
    logDir: string;
  }
}

const ROOT = resolve(import.meta.dirname, '../..');
const env = process.env;
const cacheDir = env.AICOST_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(env.HOME ?? '/tmp', '.cache'), 'aicost');
const stateDir = resolve(env.AICOST_CLUSTER_DIR ?? join(cacheDir, 'cluster'));
const logDir = resolve(env.AICOST_CLUSTER_LOGS ?? join(cacheDir, 'cluster-logs'));

/** up.sh writes a fresh id for each cluster it starts: a changed id means this run started the cluster. */
function clusterId(): string | undefined {
  try {
    return readFileSync(join(stateDir, 'cluster-id'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function useExisting(project: TestProject): () => void {
  const kubeconfig = env.KUBECONFIG;
  if (!kubeconfig) throw new Error('AICOST_E2E_EXISTING_CLUSTER=1 needs KUBECONFIG to point at the cluster');
  if (kubeconfig.includes(':')) throw new Error(`KUBECONFIG must name one file for the e2e tests, not ${kubeconfig}`);
  project.provide('kubeconfig', resolve(kubeconfig));
  project.provide('prometheusUrl', env.PROMETHEUS_URL ?? '');
  project.provide('logDir', logDir);
  console.error(
    `e2e: using the existing cluster of ${kubeconfig}; ` +
      (env.PROMETHEUS_URL ? `Prometheus ${env.PROMETHEUS_URL}` : 'no PROMETHEUS_URL: tests that need Prometheus skip'),
  );
  return () => undefined;
}

export default function setup(project: TestProject): () => void {
  if (env.AICOST_E2E_EXISTING_CLUSTER === '1') return useExisting(project);

  const before = clusterId();
  let out: string;
  try {
    out = execFileSync('bash', [join(ROOT, 'test/cluster/up.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      // A first run builds Kubernetes from source.
      timeout: 3_600_000,
      env: { ...env, AICOST_CLUSTER_DIR: stateDir, AICOST_CLUSTER_LOGS: logDir },
    });
  } catch (error) {
    throw new Error(`test/cluster/up.sh failed; component logs are in ${logDir}`, { cause: error });
  }
  const value = (name: string): string => {
    const line = out
      .split('\n')
      .reverse()
      .find((l) => l.startsWith(`${name}=`));
    if (!line) throw new Error(`test/cluster/up.sh did not print ${name}=...; it printed: ${out}`);
    return line.slice(name.length + 1);
  };
  const started = clusterId() !== before;
  project.provide('kubeconfig', value('KUBECONFIG'));
  project.provide('prometheusUrl', value('PROMETHEUS_URL'));
  project.provide('logDir', logDir);
  console.error(`e2e: local cluster ${started ? 'started' : 'reused'}; component and operator logs in ${logDir}`);

  return () => {
    if (!started) return;
    if (env.AICOST_KEEP_CLUSTER === '1') {
      console.error(`e2e: AICOST_KEEP_CLUSTER=1: the cluster stays up (npm run cluster:down stops it)`);
      return;
    }
    execFileSync('bash', [join(ROOT, 'test/cluster/down.sh')], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...env, AICOST_CLUSTER_DIR: stateDir, AICOST_CLUSTER_LOGS: logDir },
    });
  };
}
