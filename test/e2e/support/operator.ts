/**
 * Runs the operator as a child process, from source the way `npm start` does (or built, as the image does),
 * with its JSON log in a file next to the cluster's logs. Tests read its metrics port from the log and kill it
 * the way a node would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface OperatorOptions {
  readonly kubeconfig: string;
  readonly logDir: string;
  readonly name: string;
  readonly args: readonly string[];
  /** Node flags, e.g. heap limits as a container's memory limit would set them. */
  readonly nodeOptions?: readonly string[];
  /** `built` runs dist/main.js (npm run build), as the image does; the default runs the TypeScript source. */
  readonly entry?: 'source' | 'built';
  /** Extra environment variables, e.g. the AWS_* settings of an s3:// ledger. */
  readonly env?: Readonly<Record<string, string>>;
}

export class OperatorProcess {
  readonly logFile: string;
  private readonly child: ChildProcess;
  private exited: Promise<number | null>;

  private constructor(child: ChildProcess, logFile: string) {
    this.child = child;
    this.logFile = logFile;
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  static start(options: OperatorOptions): OperatorProcess {
    mkdirSync(options.logDir, { recursive: true });
    const logFile = join(options.logDir, `operator-${options.name}.log`);
    // A fresh log per start, emptied now (the stream opens later): tests read the metrics port from it.
    writeFileSync(logFile, '');
    const out = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeOptions ?? []),
        join(ROOT, options.entry === 'built' ? 'dist/main.js' : 'src/main.ts'),
        'run',
        '--metrics-port',
        '0',
        '--health-port',
        '0',
        '--bind-address',
        '127.0.0.1',
        '--identity',
        options.name,
        ...options.args,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ...options.env, KUBECONFIG: options.kubeconfig },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    return new OperatorProcess(child, logFile);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[] {
    let text = '';
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  }

  metricsPort(): number | undefined {
    return this.loggedPort('metricsPort');
  }

  /** The port of /healthz and /readyz. */
  healthPort(): number | undefined {
    return this.loggedPort('healthPort');
  }

  private loggedPort(field: 'metricsPort' | 'healthPort'): number | undefined {
    const port = this.logs().find((l) => l.msg === 'serving metrics and probes')?.[field];
    return typeof port === 'number' ? port : undefined;
  }

  /** GET /readyz: 200 with the role once ready, else 503 with every reason (src/controller/readiness.ts). */
  async readyz(): Promise<{ status: number; body: string }> {
    const port = this.healthPort();
    if (port === undefined) throw new Error(`operator ${this.logFile} has not logged its probe port yet`);
    // A paused process answers nothing: give up rather than wait for the client's own timeout.
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.text() };
  }

  async metrics(): Promise<string> {
    const port = this.metricsPort();
    if (port === undefined) throw new Error(`operator ${this.logFile} has not logged its metrics port yet`);
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return response.text();
  }

  /**
   * GET /metrics of an operator run with --metrics-secure, with a bearer token or none. Its certificate is the
   * self-signed one it made at start: there is no CA to verify it with.
   */
  async secureMetrics(token?: string): Promise<{ status: number; body: string }> {
    const port = this.metricsPort();
    if (port === undefined) throw new Error(`operator ${this.logFile} has not logged its metrics port yet`);
    return new Promise((resolve, reject) => {
      const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const req = httpsRequest(
        `https://127.0.0.1:${port}/metrics`,
        { headers, rejectUnauthorized: false, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/** Value of a metric series line `name{labels} value` (first match of all the given label pairs). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    if (Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Flags for an operator under test: short windows, annotations written at once, Prometheus if the run has one. */
export function fastArgs(prometheusUrl: string): string[] {
  return [
    '--prometheus-url',
    prometheusUrl || 'http://127.0.0.1:1',
    '--interval',
    '5s',
    '--annotate-interval',
    '0s',
    '--scrape-interval',
    '5s',
  ];
}
