/**
 * The command line: which command an argument list asks for, and the words each command prints for help or
 * misuse. Pure, so the words are tested; src/main.ts does what the chosen command says.
 */
import { parseArgs } from 'node:util';
import type { BuildInfo } from './build-info.ts';
import { OPTIONS } from './config/config.ts';
import { DEFAULT_LEDGER, LEDGER_ENV } from './config/ledger-location.ts';
import { forProgram, PROGRAM } from './program-name.ts';
import { recommendHelp } from './recommend/help.ts';
import { EXPORT_USAGE, REPORT_USAGE, RUNS_USAGE } from './report/options.ts';

interface Command {
  /** One line for `aicost --help`. */
  readonly summary: string;
  /** `aicost <command> --help`, given the arguments before and after --help (a subcommand has its own). */
  help(args: readonly string[]): string;
}

const COMMANDS = {
  run: { summary: 'run the operator', help: runHelp },
  webhook: {
    summary: 'serve only the spot admission webhook: no leader election, no controllers (a Deployment of its own)',
    help: webhookHelp,
  },
  'webhook-cert': {
    summary: 'write a self-signed webhook certificate (tls.crt, tls.key, ca.crt) for local runs',
    help: webhookCertHelp,
  },
  report: {
    summary: 'what each team, project, experiment or workload cost, from the ledger; "report runs" lists training runs',
    help: (args: readonly string[]) => (args[0] === 'runs' ? runsHelp() : reportHelp()),
  },
  export: { summary: 'write the ledger as FinOps FOCUS 1.3 cost and usage rows (Parquet or CSV)', help: exportHelp },
  recommend: {
    summary: 'what would save money: right-sizing, empty GPU nodes, commitments (changes nothing)',
    help: recommendHelp,
  },
  version: { summary: 'print the version, the git commit and the Node.js version', help: versionHelp },
} as const satisfies Record<string, Command>;

export type CommandName = keyof typeof COMMANDS;

/** Either a command to run with its arguments, or text to print and the exit code to leave with. */
export type Invocation =
  | { readonly kind: 'command'; readonly command: CommandName; readonly args: readonly string[] }
  | { readonly kind: 'print'; readonly text: string; readonly exitCode: 0 | 2 };

const HELP = new Set(['--help', '-h']);

/** `program`: the name the user typed (program-name.ts), which usage and help show. */
export function route(argv: readonly string[], program = PROGRAM): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || HELP.has(first))
    return { kind: 'print', text: forProgram(overview(), program), exitCode: 0 };
  if (first === '--version') return { kind: 'command', command: 'version', args: rest };
  if (!Object.hasOwn(COMMANDS, first)) {
    // Short: the user typed a command, most likely one from another version; a page of options hides the point.
    const names = Object.keys(COMMANDS).join(', ');
    return {
      kind: 'print',
      text: `${program}: unknown command "${first}"\nCommands: ${names} ("${program} --help" says what each does)`,
      exitCode: 2,
    };
  }
  const command = first as CommandName;
  if (rest.some((arg) => HELP.has(arg)))
    return { kind: 'print', text: forProgram(COMMANDS[command].help(rest), program), exitCode: 0 };
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

/** The help lines of the given options, each with its variable and default. */
function optionRows(names: readonly (keyof typeof OPTIONS)[]): string[] {
  const width = Math.max(...names.map((name) => name.length));
  return names.map((name) => {
    const o = OPTIONS[name];
    return `  --${name.padEnd(width)} ${o.help}\n  ${''.padEnd(width + 2)} env ${o.env}, default ${o.default || '(none)'}`;
  });
}

/** The options the webhook command uses; it accepts the others (one argument list serves both roles). */
const WEBHOOK_ROLE_OPTIONS = [
  'webhook-port',
  'webhook-cert-dir',
  'spot-conventions',
  'pricing-file',
  'currency',
  'webhook-max-body',
  'webhook-max-in-flight',
  'webhook-read-timeout',
  'webhook-idle-timeout',
  'webhook-max-connections',
  'default-mode',
  'namespace',
  'metrics-port',
  'health-port',
  'bind-address',
  'identity',
  'log-level',
] as const satisfies readonly (keyof typeof OPTIONS)[];

function webhookHelp(): string {
  return [
    'Usage: aicost webhook --webhook-port PORT --webhook-cert-dir DIR [options]',
    '',
    'Serves only the admission webhook, with /metrics and the probes: the Helm chart runs it as a',
    'Deployment of its own with webhook.separateDeployment. It reads what a review needs (namespaces, nodes,',
    'the workloads a pod can name, the AICostPolicies, the pricing file) and nothing else: no pods, no Lease,',
    'no controllers, no ledger, no Prometheus. It takes the options of "aicost run" and ignores those it does',
    'not use; these are the ones it uses:',
    '',
    'Options:',
    ...optionRows(WEBHOOK_ROLE_OPTIONS),
  ].join('\n');
}

function runHelp(): string {
  const rows = optionRows(Object.keys(OPTIONS) as (keyof typeof OPTIONS)[]);
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
  program = PROGRAM,
): { readonly dir: string; readonly hosts: readonly string[] } | { readonly error: string } {
  const usage = forProgram(WEBHOOK_CERT_USAGE, program);
  let values: { dir?: string | undefined; hosts: string };
  try {
    values = parseArgs({
      args: [...args],
      options: { dir: { type: 'string' }, hosts: { type: 'string', default: 'localhost,127.0.0.1' } },
      strict: true,
    }).values;
  } catch (error) {
    return { error: `${program} webhook-cert: ${(error as Error).message.split('\n')[0] ?? ''}\n${usage}` };
  }
  if (!values.dir) return { error: `${program} webhook-cert: --dir is required\n${usage}` };
  const hosts = values.hosts
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return { dir: values.dir, hosts };
}

const LEDGER_LINE = `  --ledger DIR       the ledger: a directory or s3://bucket/prefix (env ${LEDGER_ENV}, default ${DEFAULT_LEDGER})`;
const RANGE_LINES = [
  '  --from T           first window start to include: a date (00:00 UTC) or an RFC 3339 time;',
  '                     default 00:00 UTC on the first day of the month of --to',
  '  --to T             windows starting at or after T are left out (exclusive); default now, so the',
  '                     current, not yet compacted window is included',
  '  --cluster ID       one cluster only (default: every cluster in the ledger)',
];

function reportHelp(): string {
  return [
    REPORT_USAGE,
    '',
    'Sums the cost in the ledger by the given keys over the windows that start in [--from, --to). A key is',
    'team, project, experiment or model (the roll-up labels, from pod, then workload, then namespace),',
    'namespace, workload (namespace/Kind/name), cluster, or any other label key. Deleted workloads are there:',
    'the ledger keeps them. Amounts are exact decimals, so the rows add up to the total of "aicost export focus"',
    'over the same range.',
    '',
    'Options:',
    '  --by KEYS          comma-separated keys, e.g. team or team,project (required)',
    ...RANGE_LINES,
    '  --namespace NS     workloads of one namespace only (leaves idle capacity out: it has no namespace)',
    '  --format F         table (default), csv, json: an array of {"<key>": "...", "cost": "12.34", "currency": "USD"},',
    '                     or html: one self-contained page (spend per day, or per window under two days, by the',
    '                     keys; the rows; the top workloads; the idle share), e.g. > spend.html',
    '  --idle MODE        separate (default): capacity no workload requested is an "__idle__" row, but the idle',
    "                     a node label owns (the operator's --idle-owner-label) is in its owner's row (idleCost);",
    "                     share: each cluster's idle cost of no one goes to its keys in proportion to their cost;",
    '                     pooled: all idle in "__idle__", owned or not',
    '  --engine E         auto (default: DuckDB for a local ledger when installed, else JavaScript), duckdb, js',
    LEDGER_LINE,
    '',
    'Subcommand: "aicost report runs" lists every training run (Job); "aicost report runs --help".',
  ].join('\n');
}

function runsHelp(): string {
  return [
    RUNS_USAGE,
    '',
    'Lists every training run (Job) with windows in [--from, --to), deleted Jobs included: its team,',
    'experiment, GPU-hours, utilization (mean weighted by GPU-hours where measured), idle GPU cost, cost and',
    'outcome; then per team and experiment the cost per successful run: the cost of all runs (failed and',
    'running ones too) over the number that succeeded.',
    '',
    'Options:',
    ...RANGE_LINES,
    '  --namespace NS     Jobs of one namespace only',
    '  --format F         table (default), csv (the runs only), or json ({"runs": [...], "summary": [...]})',
    LEDGER_LINE,
  ].join('\n');
}

function exportHelp(): string {
  return [
    EXPORT_USAGE,
    '',
    'Writes the ledger rows of the windows that start in [--from, --to) as FinOps FOCUS 1.3 Cost and Usage rows:',
    'EffectiveCost is the allocated cost, workloads are split-allocation rows (AllocatedResourceId), idle',
    'capacity the unallocated part, GPU-hours ConsumedQuantity, labels Tags. Money is DECIMAL(18,9) in',
    'Parquet. docs/focus.md has the column mapping.',
    '',
    'Options:',
    '  --out FILE         the file to write (required); replaced when it exists',
    '  --format F         parquet or csv (default: csv when FILE ends in .csv, else parquet)',
    ...RANGE_LINES,
    '  --provider NAME    ServiceProviderName and InvoiceIssuerName: who runs the cluster (default Kubernetes)',
    '  --host-provider N  HostProviderName: who hosts the nodes, e.g. AWS (default: --provider)',
    LEDGER_LINE,
  ].join('\n');
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
export function versionOutput(
  args: readonly string[],
  info: BuildInfo,
  program = PROGRAM,
): { text: string; exitCode: 0 | 2 } {
  if (args.length > 0)
    return {
      text: `${program} version: takes no arguments, got "${args.join(' ')}"\nUsage: ${program} version`,
      exitCode: 2,
    };
  return { text: `version: ${info.version}\ncommit: ${info.commit}\nnode: ${info.nodeVersion}`, exitCode: 0 };
}
