import { describe, expect, it } from 'vitest';
import { parseWebhookCertArgs, route, versionOutput, type Invocation } from './cli.ts';

const printed = (argv: string[]): { text: string; exitCode: number } => {
  const r: Invocation = route(argv);
  if (r.kind !== 'print') throw new Error(`${JSON.stringify(argv)} runs ${r.command}`);
  return r;
};

describe('command line', () => {
  it.each([[[]], [['--help']], [['-h']]])('%j lists the commands, briefly', (argv) => {
    const { text, exitCode } = printed(argv);
    expect(exitCode).toBe(0);
    expect(text).toMatch(/^Usage: aicost <command> \[options\]\n/);
    expect(text).toContain('\n  run            run the operator\n');
    expect(text).toContain('\n  webhook-cert   write a self-signed webhook certificate');
    expect(text).toContain('\n  version        print the version, the git commit and the Node.js version\n');
    expect(text).not.toContain('--prometheus-url');
  });

  it.each([
    [['run', '--help'], /^Usage: aicost run \[options\]\n/, '--prometheus-url'],
    [['run', '--interval', '5s', '-h'], /^Usage: aicost run \[options\]\n/, 'env AICOST_INTERVAL, default 60s'],
    [['version', '--help'], /^Usage: aicost version\n/, 'aicost_build_info'],
    [
      ['webhook-cert', '--help'],
      /^Usage: aicost webhook-cert --dir DIR \[--hosts localhost,127.0.0.1\]\n/,
      '--hosts LIST',
    ],
  ])("%j prints that command's own help", (argv, usage, line) => {
    const { text, exitCode } = printed(argv);
    expect(exitCode).toBe(0);
    expect(text).toMatch(usage);
    expect(text).toContain(line);
  });

  it("webhook-cert's help is not run's", () => {
    expect(printed(['webhook-cert', '--help']).text).not.toContain('--prometheus-url');
    expect(printed(['run', '--help']).text).not.toContain('--hosts');
  });

  it.each([
    [
      'report',
      'aicost: unknown command "report"\nCommands: run, webhook-cert, version ("aicost --help" says what each does)',
    ],
    [
      '--interval',
      'aicost: unknown command "--interval"\nCommands: run, webhook-cert, version ("aicost --help" says what each does)',
    ],
  ])('an unknown command %j gets two lines and exit code 2', (command, text) => {
    expect(printed([command, '--help'])).toEqual({ kind: 'print', text, exitCode: 2 });
  });

  it('hands a command its arguments', () => {
    expect(route(['run', '--interval', '5s'])).toEqual({ kind: 'command', command: 'run', args: ['--interval', '5s'] });
  });

  it.each([
    [['--dir', 'certs'], { dir: 'certs', hosts: ['localhost', '127.0.0.1'] }],
    [['--dir=certs', '--hosts', 'a.svc, 10.0.0.1,'], { dir: 'certs', hosts: ['a.svc', '10.0.0.1'] }],
    [
      [],
      {
        error:
          'aicost webhook-cert: --dir is required\nUsage: aicost webhook-cert --dir DIR [--hosts localhost,127.0.0.1]',
      },
    ],
    [
      ['--dir', 'c', '--bogus'],
      {
        error:
          "aicost webhook-cert: Unknown option '--bogus'\nUsage: aicost webhook-cert --dir DIR [--hosts localhost,127.0.0.1]",
      },
    ],
  ])('webhook-cert %j', (args, expected) => {
    expect(parseWebhookCertArgs(args)).toEqual(expected);
  });

  it('aicost version and aicost --version print the version, the commit and Node.js', () => {
    expect(route(['version'])).toEqual({ kind: 'command', command: 'version', args: [] });
    expect(route(['--version'])).toEqual({ kind: 'command', command: 'version', args: [] });
    expect(versionOutput([], { version: '0.1.0', commit: 'cafe', nodeVersion: 'v24.1.0' })).toEqual({
      text: 'version: 0.1.0\ncommit: cafe\nnode: v24.1.0',
      exitCode: 0,
    });
    expect(versionOutput(['--short'], { version: '0.1.0', commit: 'cafe', nodeVersion: 'v24.1.0' })).toEqual({
      text: 'aicost version: takes no arguments, got "--short"\nUsage: aicost version',
      exitCode: 2,
    });
  });
});
