/**
 * The `aicost` command as a user runs it: a process, its output streams and its exit code. The words are
 * tested in src/cli.test.ts; this checks that src/main.ts prints them where they belong.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../src/main.ts');

function aicost(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('aicost', () => {
  it('names an unknown command and the ones there are, on stderr, with exit code 2', () => {
    expect(aicost('reports')).toEqual({
      status: 2,
      stdout: '',
      stderr:
        'aicost: unknown command "reports"\nCommands: run, webhook, webhook-cert, report, export, recommend, version ("aicost --help" says what each does)\n',
    });
  });

  it('recommends from what it can reach: sources it cannot are warnings on stderr, and it exits 0', () => {
    const ledger = resolve(import.meta.dirname, 'no-such-ledger');
    expect(aicost('recommend', '--ledger', ledger, '--format', 'json')).toEqual({
      status: 0,
      stdout: '[]\n',
      stderr:
        `aicost recommend: warning: no ledger at ${ledger}: skipped (empty nodes and commitments need it)\n` +
        'aicost recommend: warning: no --prometheus-url: right-sizing skipped\n',
    });
  });

  it("prints webhook-cert's own help, not run's", () => {
    const r = aicost('webhook-cert', '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: aicost webhook-cert --dir DIR/);
    expect(r.stdout).not.toContain('--prometheus-url');
  });

  it('prints the version of package.json from source, where the commit is unknown', () => {
    const { version } = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(aicost('version')).toEqual({
      status: 0,
      stdout: `version: ${version}\ncommit: unknown\nnode: ${process.version}\n`,
      stderr: '',
    });
  });

  it('the webhook command refuses to start without its port, before it connects to anything', () => {
    expect(aicost('webhook')).toEqual({
      status: 2,
      stdout: '',
      stderr:
        '--webhook-port: "0" turns the webhook off, and the webhook command serves nothing else: give it a port (the chart uses 9443)\n',
    });
  });

  it('says what is wrong with a flag before it connects to anything', () => {
    expect(aicost('run', '--interval', '5 minutes')).toEqual({
      status: 2,
      stdout: '',
      stderr: '--interval: "5 minutes" is not a duration such as 30s, 15m or 1h\n',
    });
  });
});
