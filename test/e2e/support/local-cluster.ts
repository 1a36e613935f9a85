/**
 * Outages of the local cluster's components (test/cluster/up.sh), for chaos tests: a component is stopped the way
 * down.sh stops it (SIGTERM to its process group, SIGKILL if it lingers) and started again with the command line,
 * environment and working directory it ran with, read from /proc before it stopped. So it comes back at the same
 * address, with the same certificates, data directory and flags. Like up.sh, the new process runs in a session of
 * its own, appends to the component's log and is noted in `<state>/<name>.pid`: down.sh stops it as any other.
 *
 * Only a cluster that up.sh made has these: another cluster (kind, a cloud one) cannot be restarted from here,
 * and LocalCluster.of says so by returning undefined.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubectlFor, waitFor } from './cluster.ts';

export type Component = 'etcd' | 'kube-apiserver' | 'prometheus';
/** stop: SIGTERM, as a restart; hang: SIGSTOP while down, then SIGKILL, as a process stuck mid-request. */
export type Outage = 'stop' | 'hang';
const COMPONENTS: readonly Component[] = ['etcd', 'kube-apiserver', 'prometheus'];

/** The file under `<state>/ports/` that holds each component's port (up.sh's names). */
const PORT_FILE: Readonly<Record<Component, string>> = {
  etcd: 'etcd',
  'kube-apiserver': 'apiserver',
  prometheus: 'prometheus',
};

/**
 * How long each may take to serve again, from up.sh's waits (30, 90 and 60 s) with room for a loaded two-CPU
 * machine: the API server starts its informers and post-start hooks before /readyz says ok.
 */
const START_TIMEOUT_MS: Readonly<Record<Component, number>> = {
  etcd: 30_000,
  'kube-apiserver': 120_000,
  prometheus: 60_000,
};

/** down.sh gives SIGTERM 10 s; the API server's graceful shutdown may take a little more under load. */
const STOP_GRACE_MS = 15_000;

/** What a stopped component is started again with. */
interface Launch {
  readonly argv: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export class LocalCluster {
  readonly stateDir: string;
  readonly logDir: string;

  private constructor(stateDir: string, logDir: string) {
    this.stateDir = stateDir;
    this.logDir = logDir;
  }

  /**
   * The local cluster whose kubeconfig this is, with etcd, kube-apiserver and Prometheus running; undefined for
   * any other cluster. up.sh writes the kubeconfig into its state directory, beside its `.aicost-cluster` marker.
   */
  static of(kubeconfig: string): LocalCluster | undefined {
    const stateDir = dirname(kubeconfig);
    if (!existsSync(join(stateDir, '.aicost-cluster'))) return undefined;
    const logs = /^AICOST_CLUSTER_LOGS=(.+)$/m.exec(readOptional(join(stateDir, 'cluster.env')))?.[1];
    if (logs === undefined) return undefined;
    const local = new LocalCluster(stateDir, logs);
    return COMPONENTS.every((c) => local.pidOf(c) !== undefined) ? local : undefined;
  }

  /** The Prometheus of this cluster, as up.sh prints it (PROMETHEUS_URL). */
  get prometheusUrl(): string {
    return `http://127.0.0.1:${this.port('prometheus')}`;
  }

  /**
   * Stops the component, runs `whileDown`, and starts the component again, also when `whileDown` throws (a
   * failed test must not leave the shared cluster broken); resolves with whileDown's value once it serves again
   * and, after an outage of the control plane, once the API server is ready and the nodes are Ready, as up.sh
   * leaves them for the next test.
   */
  async outage<T>(component: Component, whileDown: () => Promise<T>, how: Outage = 'stop'): Promise<T> {
    const launch = how === 'stop' ? await this.stop(component) : this.hang(component);
    try {
      return await whileDown();
    } finally {
      if (how === 'hang') await this.kill(component);
      await this.start(component, launch);
      if (component !== 'prometheus') await this.waitControlPlane();
    }
  }

  /**
   * The API server ready (after etcd's outage, its etcd client reconnects after a backoff of its own) and every
   * node of the profile Ready: kwok renews their leases once it reaches the API server again, and a node that
   * kube-controller-manager marked NotReady meanwhile (past its node-monitor grace period) waits for kwok's
   * next heartbeat.
   */
  private async waitControlPlane(): Promise<void> {
    await waitFor(() => this.serves('kube-apiserver'), {
      description: `kube-apiserver of ${this.stateDir} ready`,
      timeoutMs: START_TIMEOUT_MS['kube-apiserver'],
    });
    const kubectl = kubectlFor(join(this.stateDir, 'kubeconfig'));
    const jsonpath = '{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}';
    await waitFor(
      () => {
        const ready = kubectl([
          'get',
          'nodes',
          '-l',
          'aicost.dev/local-cluster-node=true',
          '-o',
          `jsonpath=${jsonpath}`,
        ])
          .split('\n')
          .filter((line) => line !== '');
        return ready.length > 0 && ready.every((status) => status === 'True');
      },
      { description: `the nodes of ${this.stateDir} Ready`, timeoutMs: 120_000 },
    );
  }

  private port(component: Component): number {
    return Number(readFileSync(join(this.stateDir, 'ports', PORT_FILE[component]), 'utf8').trim());
  }

  private pidFile(component: Component): string {
    return join(this.stateDir, `${component}.pid`);
  }

  /** The live process of the pid file, when it is this cluster's (down.sh's test: its command line names the state). */
  private pidOf(component: Component): number | undefined {
    const pid = Number(readOptional(this.pidFile(component)).trim());
    if (!Number.isSafeInteger(pid) || pid <= 0 || !running(pid)) return undefined;
    return readOptional(`/proc/${pid}/cmdline`).includes(`${this.stateDir}/`) ? pid : undefined;
  }

  /**
   * Freezes the component (SIGSTOP): its sockets stay open and what it was answering hangs, as with a process
   * stuck mid-request; `kill` ends it afterwards without a chance to finish anything.
   */
  private hang(component: Component): Launch {
    const pid = this.pidOf(component);
    if (pid === undefined) throw new Error(`${component} of ${this.stateDir} is not running: nothing to hang`);
    const launch = this.launchOf(pid);
    signalGroup(pid, 'SIGSTOP');
    return launch;
  }

  private async kill(component: Component): Promise<void> {
    const pid = this.pidOf(component);
    if (pid === undefined) return;
    signalGroup(pid, 'SIGKILL');
    if (!(await exited(pid, 5000))) throw new Error(`${component} (pid ${pid}) survived SIGKILL`);
    rmSync(this.pidFile(component), { force: true });
  }

  /** How to start the process of `pid` again as it was started. */
  private launchOf(pid: number): Launch {
    // Its own environment where /proc shows it (up.sh's, KUBECONFIG included), else this process's.
    const environ = nulSeparated(readOptional(`/proc/${pid}/environ`));
    return {
      argv: nulSeparated(readFileSync(`/proc/${pid}/cmdline`, 'utf8')),
      env:
        environ.length === 0
          ? process.env
          : Object.fromEntries(environ.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      cwd: readlinkSync(`/proc/${pid}/cwd`),
    };
  }

  private async stop(component: Component): Promise<Launch> {
    const pid = this.pidOf(component);
    if (pid === undefined) throw new Error(`${component} of ${this.stateDir} is not running: nothing to stop`);
    const launch = this.launchOf(pid);
    signalGroup(pid, 'SIGTERM');
    if (!(await exited(pid, STOP_GRACE_MS))) {
      signalGroup(pid, 'SIGKILL');
      if (!(await exited(pid, 5000))) throw new Error(`${component} (pid ${pid}) survived SIGKILL`);
    }
    rmSync(this.pidFile(component), { force: true });
    return launch;
  }

  private async start(component: Component, launch: Launch): Promise<void> {
    const [file, ...args] = launch.argv;
    if (file === undefined) throw new Error(`${component} had an empty command line`);
    const logFile = join(this.logDir, `${component}.log`);
    // The same header line as up.sh's launch(), so the log shows where each run starts.
    appendFileSync(
      logFile,
      `=== ${new Date().toISOString().slice(0, 19)}Z: ${launch.argv.join(' ')} (started again by a test)\n`,
    );
    const out = openSync(logFile, 'a');
    let failed: Error | undefined;
    let pid: number | undefined;
    try {
      const child = spawn(file, args, {
        cwd: launch.cwd,
        env: launch.env,
        detached: true,
        stdio: ['ignore', out, out],
      });
      child.once('error', (error) => (failed = error));
      child.unref();
      pid = child.pid;
    } finally {
      closeSync(out);
    }
    if (pid !== undefined) writeFileSync(this.pidFile(component), `${pid}\n`);
    const started = pid;
    await waitFor(
      async () => {
        if (failed) throw new Error(`cannot start ${file}`, { cause: failed });
        if (started === undefined || !running(started)) throw new Error(`${component} exited; see ${logFile}`);
        return this.serves(component);
      },
      { description: `${component} started again (log: ${logFile})`, timeoutMs: START_TIMEOUT_MS[component] },
    );
  }

  /** up.sh's checks: etcd's /health, the API server's /readyz, Prometheus's /-/ready. */
  private async serves(component: Component): Promise<boolean> {
    if (component === 'kube-apiserver') {
      try {
        kubectlFor(join(this.stateDir, 'kubeconfig'))(['--request-timeout=3s', 'get', '--raw', '/readyz']);
        return true;
      } catch {
        return false;
      }
    }
    const path = component === 'etcd' ? '/health' : '/-/ready';
    const response = await fetch(`http://127.0.0.1:${this.port(component)}${path}`, {
      signal: AbortSignal.timeout(3000),
    }).catch(() => undefined);
    return response?.ok ?? false;
  }
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** /proc's argv and environment: strings each ended by a NUL. */
function nulSeparated(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Alive and not a zombie (whoever reaps up.sh's orphans may be slow to): down.sh's `running`. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readOptional(`/proc/${pid}/stat`);
  // "pid (command) state ...": the command may hold spaces and parentheses, the state follows the last ')'.
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Each component leads its own process group (setsid): signal all of it, else the process alone. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already.
    }
  }
}

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (running(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}
