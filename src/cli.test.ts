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
    expect(text).toContain(
      '\n  webhook        serve only the spot admission webhook: no leader election, no controllers',
    );
    expect(text).toContain('\n  report         what each team, project, experiment or workload cost, from the ledger');
    expect(text).toContain(
      '\n  export         write the ledger as FinOps FOCUS 1.3 cost and usage rows (Parquet or CSV)\n',
    );
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

  it.each([
    [['report', '--help'], /^Usage: aicost report --by KEY\[,KEY\.\.\.\] /, '--idle MODE'],
    [['report', '--by', 'team', '-h'], /^Usage: aicost report --by/, 'env AICOST_LEDGER, default .aicost/ledger'],
    [['report', 'runs', '--help'], /^Usage: aicost report runs /, 'cost per successful run'],
    [['export', 'focus', '--help'], /^Usage: aicost export focus --out FILE /, 'docs/focus.md'],
    [['export', '--help'], /^Usage: aicost export focus --out FILE /, 'DECIMAL(18,9)'],
    [
      ['recommend', '--help'],
      /^Usage: aicost recommend \[--prometheus-url URL\] /,
      'docs/unit-economics.md#recommendations',
    ],
  ])('%j prints the report help it asks for', (argv, usage, line) => {
    const { text, exitCode } = printed(argv);
    expect(exitCode).toBe(0);
    expect(text).toMatch(usage);
    expect(text).toContain(line);
  });

  it('runs help is not the report help, and the other way round', () => {
    expect(printed(['report', 'runs', '--help']).text).not.toContain('--idle');
    expect(printed(['report', '--help']).text).not.toContain('cost per successful run');
  });

  it('hands the report commands their arguments, subcommand first', () => {
    expect(route(['report', 'runs', '--format', 'json'])).toEqual({
      kind: 'command',
      command: 'report',
      args: ['runs', '--format', 'json'],
    });
    expect(route(['export', 'focus', '--out', 'cost.csv'])).toEqual({
      kind: 'command',
      command: 'export',
      args: ['focus', '--out', 'cost.csv'],
    });
  });

  it("webhook's help names the options it uses, not the operator's", () => {
    const { text } = printed(['webhook', '--help']);
    expect(text).toMatch(/^Usage: aicost webhook --webhook-port PORT --webhook-cert-dir DIR \[options\]\n/);
    expect(text).toContain('--webhook-max-in-flight');
    expect(text).not.toContain('--prometheus-url');
    expect(text).not.toContain('--leader-elect');
    expect(route(['webhook', '--webhook-port=9443'])).toEqual({
      kind: 'command',
      command: 'webhook',
      args: ['--webhook-port=9443'],
    });
  });

  it("webhook-cert's help is not run's", () => {
    expect(printed(['webhook-cert', '--help']).text).not.toContain('--prometheus-url');
    expect(printed(['run', '--help']).text).not.toContain('--hosts');
  });

  it.each([
    [
      'reports',
      'aicost: unknown command "reports"\nCommands: run, webhook, webhook-cert, report, export, recommend, version ("aicost --help" says what each does)',
    ],
    [
      '--interval',
      'aicost: unknown command "--interval"\nCommands: run, webhook, webhook-cert, report, export, recommend, version ("aicost --help" says what each does)',
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

describe('as kubectl aicost', () => {
  const plugin = (argv: string[]) => {
    const r = route(argv, 'kubectl aicost');
    if (r.kind !== 'print') throw new Error(`${JSON.stringify(argv)} runs ${r.command}`);
    return r.text;
  };

  it('the help says the command the user types: kubectl aicost', () => {
    expect(plugin(['--help'])).toMatch(/^Usage: kubectl aicost <command> \[options\]\n/);
    expect(plugin(['--help'])).toContain('\n"kubectl aicost <command> --help" shows the options of a command.');
    expect(plugin(['report', '--help'])).toMatch(/^Usage: kubectl aicost report --by KEY/);
    expect(plugin(['report', '--help'])).toContain('Subcommand: "kubectl aicost report runs" lists every training run');
    expect(plugin(['export', '--help'])).toMatch(/^Usage: kubectl aicost export focus --out FILE /);
    expect(plugin(['version', '--help'])).toContain('aicost_build_info');
    expect(plugin(['reports'])).toBe(
      'kubectl aicost: unknown command "reports"\nCommands: run, webhook, webhook-cert, report, export, recommend, version ("kubectl aicost --help" says what each does)',
    );
  });

  it('so do the usage lines of argument errors', () => {
    expect(parseWebhookCertArgs([], 'kubectl aicost')).toEqual({
      error:
        'kubectl aicost webhook-cert: --dir is required\nUsage: kubectl aicost webhook-cert --dir DIR [--hosts localhost,127.0.0.1]',
    });
    expect(versionOutput(['x'], { version: '0.1.0', commit: 'c', nodeVersion: 'v24' }, 'kubectl aicost').text).toBe(
      'kubectl aicost version: takes no arguments, got "x"\nUsage: kubectl aicost version',
    );
  });
});
