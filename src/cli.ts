/**
 * The command line: which command an argument list asks for, and the words each command prints for help or
 * misuse. Pure, so the words are tested; src/main.ts does what the chosen command says.
 */
import { parseArgs } from 'node:util';
import type { BuildInfo } from './build-info.ts';
import { OPTIONS } from './config/config.ts';

interface Command {
  /** One line for `aicost --help`. */
  readonly summary: string;
  /** `aicost <command> --help`. */
  help(): string;
}

const COMMANDS = {
  run: { summary: 'run the operator', help: runHelp },
  'webhook-cert': {
    summary: 'write a self-signed webhook certificate (tls.crt, tls.key, ca.crt) for local runs',
    help: webhookCertHelp,
  },
  version: { summary: 'print the version, the git commit and the Node.js version', help: versionHelp },
} as const satisfies Record<string, Command>;

export type CommandName = keyof typeof COMMANDS;

/** Either a command to run with its arguments, or text to print and the exit code to leave with. */
export type Invocation =
  | { readonly kind: 'command'; readonly command: CommandName; readonly args: readonly string[] }
  | { readonly kind: 'print'; readonly text: string; readonly exitCode: 0 | 2 };

const HELP = new Set(['--help', '-h']);

export function route(argv: readonly string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || HELP.has(first)) return { kind: 'print', text: overview(), exitCode: 0 };
  if (first === '--version') return { kind: 'command', command: 'version', args: rest };
  if (!Object.hasOwn(COMMANDS, first)) {
    // Short: the user typed a command, most likely one from another version; a page of options hides the point.
    const names = Object.keys(COMMANDS).join(', ');
    return {
      kind: 'print',
      text: `aicost: unknown command "${first}"\nCommands: ${names} ("aicost --help" says what each does)`,
      exitCode: 2,
    };
  }
  const command = first as CommandName;
  if (rest.some((arg) => HELP.has(arg))) return { kind: 'print', text: COMMANDS[command].help(), exitCode: 0 };
  return { kind: 'command', command, args: rest };
}

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 3;
  return [
    'Usage: aicost <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    '',
    '"aicost <command> --help" shows the options of a command.',
  ].join('\n');
}

function runHelp(): string {
  const rows = Object.entries(OPTIONS).map(
    ([name, o]) =>
      `  --${name.padEnd(27)} ${o.help}\n  ${''.padEnd(29)} env ${o.env}, default ${o.default || '(none)'}`,
  );
  return [
    'Usage: aicost run [options]',
    '',
    'Runs the operator. Every option can be given as a flag (--name value or --name=value) or as its AICOST_*',
    'variable; a flag beats its variable. Durations are written 500ms, 5s, 1m, 1h.',
    '',
    'Options:',
    ...rows,
  ].join('\n');
}

const WEBHOOK_CERT_USAGE = 'Usage: aicost webhook-cert --dir DIR [--hosts localhost,127.0.0.1]';

function webhookCertHelp(): string {
  return [
    WEBHOOK_CERT_USAGE,
    '',
    'Writes a self-signed serving certificate (tls.crt, tls.key) and the same certificate as ca.crt, for the',
    "webhook configuration's caBundle, to run the webhook outside a cluster (tests, the demo). In a cluster the",
    'Helm chart provides the certificate.',
    '',
    'Options:',
    '  --dir DIR      directory to write to, created if missing',
    '  --hosts LIST   comma-separated DNS names and IP addresses the certificate is for (default localhost,127.0.0.1)',
  ].join('\n');
}

/** `aicost webhook-cert`'s arguments, or what is wrong with them (with the usage line). */
export function parseWebhookCertArgs(
  args: readonly string[],
): { readonly dir: string; readonly hosts: readonly string[] } | { readonly error: string } {
  let values: { dir?: string | undefined; hosts: string };
  try {
    values = parseArgs({
      args: [...args],
      options: { dir: { type: 'string' }, hosts: { type: 'string', default: 'localhost,127.0.0.1' } },
      strict: true,
    }).values;
  } catch (error) {
    return { error: `aicost webhook-cert: ${(error as Error).message.split('\n')[0] ?? ''}\n${WEBHOOK_CERT_USAGE}` };
  }
  if (!values.dir) return { error: `aicost webhook-cert: --dir is required\n${WEBHOOK_CERT_USAGE}` };
  const hosts = values.hosts
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return { dir: values.dir, hosts };
}

function versionHelp(): string {
  return [
    'Usage: aicost version',
    '',
    'Prints the version, the git commit it was built from and the Node.js version running it. The commit is',
    '"unknown" when run from source rather than from a build (npm run build). /metrics says the same in',
    'aicost_build_info.',
  ].join('\n');
}

/** `aicost version` (or `aicost --version`): takes no arguments. */
export function versionOutput(args: readonly string[], info: BuildInfo): { text: string; exitCode: 0 | 2 } {
  if (args.length > 0)
    return { text: `aicost version: takes no arguments, got "${args.join(' ')}"\nUsage: aicost version`, exitCode: 2 };
  return { text: `version: ${info.version}\ncommit: ${info.commit}\nnode: ${info.nodeVersion}`, exitCode: 0 };
}
