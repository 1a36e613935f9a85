/**
 * Starts (or reuses) the local GPU cluster once per e2e run and hands its coordinates to the tests.
 * With AICOST_E2E_EXISTING_CLUSTER=1 the cluster in KUBECONFIG is used instead (PROMETHEUS_URL optional),
 * e.g. a kind cluster where Docker exists. A cluster this setup started is stopped at the end; logs stay.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    prometheusUrl: string;
    logDir: string;
  }
}

const ROOT = resolve(import.meta.dirname, '../..');
const cacheDir =
  process.env.AICOST_CACHE_DIR ??
  resolve(process.env.XDG_CACHE_HOME ?? resolve(process.env.HOME ?? '/tmp', '.cache'), 'aicost');
const logDir = process.env.AICOST_CLUSTER_LOGS ?? resolve(cacheDir, 'cluster-logs');

export default function setup(project: TestProject): () => void {
  if (process.env.AICOST_E2E_EXISTING_CLUSTER === '1') {
    const kubeconfig = process.env.KUBECONFIG;
    if (!kubeconfig) throw new Error('AICOST_E2E_EXISTING_CLUSTER=1 needs KUBECONFIG');
    project.provide('kubeconfig', kubeconfig);
    project.provide('prometheusUrl', process.env.PROMETHEUS_URL ?? '');
    project.provide('logDir', logDir);
    return () => undefined;
  }
  const state = process.env.AICOST_CLUSTER_DIR ?? resolve(cacheDir, 'cluster');
  let wasUp = false;
  try {
    execFileSync('kubectl', ['--kubeconfig', resolve(state, 'kubeconfig'), 'get', '--raw', '/readyz'], {
      stdio: 'ignore',
      timeout: 5000,
    });
    wasUp = true;
  } catch {
    wasUp = false;
  }
  const out = execFileSync('bash', [resolve(ROOT, 'test/cluster/up.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 3_600_000,
  });
  const value = (name: string) => {
    const line = out.split('\n').find((l) => l.startsWith(`${name}=`));
    if (!line) throw new Error(`test/cluster/up.sh did not print ${name}=`);
    return line.slice(name.length + 1);
  };
  project.provide('kubeconfig', value('KUBECONFIG'));
  project.provide('prometheusUrl', value('PROMETHEUS_URL'));
  project.provide('logDir', logDir);
  console.error(`e2e: cluster ${wasUp ? 'reused' : 'started'}; component and operator logs in ${logDir}`);
  return () => {
    if (!wasUp && process.env.AICOST_KEEP_CLUSTER !== '1')
      execFileSync('bash', [resolve(ROOT, 'test/cluster/down.sh')], { stdio: 'inherit' });
  };
}
