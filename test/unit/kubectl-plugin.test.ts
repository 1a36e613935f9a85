/**
 * `kubectl aicost`: the real kubectl finds the program as the plugin kubectl-aicost on PATH (a link to
 * src/main.ts here, to dist/main.js where npm installs package.json's bins) and runs it. Plugins need no
 * cluster: KUBECONFIG points at nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BY_TEAM_JSON, reportLedgerDir } from '../../src/testing/report-ledger.ts';

const MAIN = resolve(import.meta.dirname, '../../src/main.ts');

/** The machine's kubectl: /usr/bin/kubectl, else the first on PATH. */
function kubectlPath(): string {
  if (existsSync('/usr/bin/kubectl')) return '/usr/bin/kubectl';
  const found = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  if (found === '') throw new Error('kubectl is not on PATH (https://kubernetes.io/docs/tasks/tools/)');
  return found;
}

let dir = '';
let bin = '';
beforeAll(async () => {
  ({ dir } = await reportLedgerDir('aicost-kubectl-'));
  bin = join(dir, 'bin');
  await mkdir(bin);
  // As npm links a bin: kubectl-aicost -> the program. Its #!/usr/bin/env node finds this Node 24 first.
  await symlink(MAIN, join(bin, 'kubectl-aicost'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function kubectl(...args: string[]) {
  const r = spawnSync(kubectlPath(), args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: [bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
      HOME: dir,
      KUBECONFIG: join(dir, 'no-such-kubeconfig'),
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Each call starts kubectl and a Node process: seconds on a busy machine.
describe('kubectl aicost', { timeout: 60_000 }, () => {
  it('kubectl runs the plugin, whose help says kubectl aicost', () => {
    const r = kubectl('aicost', '--help');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: kubectl aicost <command> \[options\]\n/);
    expect(r.stdout).toContain('"kubectl aicost <command> --help" shows the options of a command.');
    expect(kubectl('aicost', 'report', '--help').stdout).toMatch(/^Usage: kubectl aicost report --by KEY/);
  });

  it('passes the arguments through: a report from the ledger, and a usage error with exit code 2', () => {
    const ledger = join(dir, 'ledger');
    const range = ['--from', '2026-11-01', '--to', '2026-11-02'];
    const r = kubectl('aicost', 'report', '--ledger', ledger, '--by', 'team', ...range, '--format', 'json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(BY_TEAM_JSON);
    const wrong = kubectl('aicost', 'report', '--ledger', ledger, '--by', 'team', '--idle', 'hide');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(
      /^kubectl aicost report: --idle: "hide" is not one of separate, share, pooled\nUsage: kubectl aicost report /,
    );
  });

  it('kubectl plugin list finds it, without a warning', () => {
    const r = kubectl('plugin', 'list');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toContain(join(bin, 'kubectl-aicost'));
    expect(r.stderr).not.toContain('kubectl-aicost');
  });
});
