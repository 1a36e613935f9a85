/**
 * A DCGM exporter simulator for the local cluster (test tooling, not shipped): it watches the cluster's
 * Nodes and Pods and serves /metrics in dcgm-exporter's format for every GPU of every fake (kwok) GPU node,
 * with pod labels on the GPUs assigned to running pods, and vLLM's series for the pods annotated as serving
 * (inference-model.ts). Pod annotations (docs/local-cluster.md):
 *   dcgm-sim.aicost.dev/utilization: "73" or "90 for 10m, then 0"   (percent; default 0; invalid -> 0, logged)
 *   dcgm-sim.aicost.dev/absent: "true"                             (no series at all for the pod's GPUs)
 *   dcgm-sim.aicost.dev/memory-used-mib: "6144"                    (DCGM_FI_DEV_FB_USED of each of its GPUs)
 *   dcgm-sim.aicost.dev/tokens-per-second, requests-per-second, model, serving-share, prefill-share (vLLM)
 *
 * Usage: node test/cluster/dcgm-sim.ts [--kubeconfig PATH] [--port 9400] [--address 127.0.0.1]
 *          [--label-style plain|exported] [--hostname-label Hostname|hostname]
 * Environment defaults: DCGM_SIM_PORT, DCGM_SIM_LABEL_STYLE, DCGM_SIM_HOSTNAME_LABEL, KUBECONFIG.
 * GET /healthz answers 200 once both watches have listed the cluster.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { newSimState, renderMetrics, simulate, type RenderOptions } from './dcgm-model.ts';
import { renderInferenceMetrics, simulateInference } from './inference-model.ts';

const log = (message: string) => console.error(`${new Date().toISOString()} dcgm-sim: ${message}`);

function options(): { kubeconfig: string | undefined; port: number; address: string; render: RenderOptions } {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      port: { type: 'string', default: process.env.DCGM_SIM_PORT ?? '9400' },
      address: { type: 'string', default: '127.0.0.1' },
      'label-style': { type: 'string', default: process.env.DCGM_SIM_LABEL_STYLE ?? 'plain' },
      'hostname-label': { type: 'string', default: process.env.DCGM_SIM_HOSTNAME_LABEL ?? 'Hostname' },
    },
  });
  const labelStyle = values['label-style'];
  const hostnameLabel = values['hostname-label'];
  const port = Number(values.port);
  if (labelStyle !== 'plain' && labelStyle !== 'exported')
    throw new Error(`--label-style must be plain or exported, not ${labelStyle}`);
  if (hostnameLabel !== 'Hostname' && hostnameLabel !== 'hostname')
    throw new Error(`--hostname-label must be Hostname or hostname, not ${hostnameLabel}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a TCP port, not ${values.port}`);
  return { kubeconfig: values.kubeconfig, port, address: values.address, render: { labelStyle, hostnameLabel } };
}

const opts = options();
const kc = new KubeConfig();
if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
else kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);

/** A list that hangs (an API server going down mid-request) would stall its informer for good: give up instead. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
const nodes = makeInformer<V1Node>(kc, '/api/v1/nodes', () => within(30_000, 'listing nodes', core.listNode()));
const pods = makeInformer<V1Pod>(kc, '/api/v1/pods', () =>
  within(30_000, 'listing pods', core.listPodForAllNamespaces()),
);
const synced = new Set<string>();
let stopping = false;

/** Runs an informer forever: client-node stops one on any error, so it is started again after a pause. */
function keepWatching(
  name: string,
  informer: { start(): Promise<void>; on(verb: 'error', cb: (err?: unknown) => void): void },
): void {
  let delayMs = 1000;
  let errors = 0;
  const begin = async () => {
    const before = errors;
    try {
      await informer.start();
    } catch (error) {
      log(`cannot start the watch of ${name}: ${error instanceof Error ? error.message : String(error)}`);
      retry();
      return;
    }
    // start() also resolves when its initial list failed; the error callback has then run.
    if (errors === before && !stopping) {
      synced.add(name);
      delayMs = 1000;
    }
  };
  const retry = () => {
    if (stopping) return;
    setTimeout(() => void begin(), delayMs);
    delayMs = Math.min(delayMs * 2, 30_000);
  };
  informer.on('error', (err) => {
    errors++;
    synced.delete(name);
    log(`watch of ${name} failed (${err instanceof Error ? err.message : String(err)}); restarting in ${delayMs} ms`);
    retry();
  });
  void begin();
}

const state = newSimState();

function metrics(): string {
  const now = Date.now();
  const all = pods.list();
  // simulate() first: it notes when each running pod was first seen, which the inference counters start from.
  const gpus = renderMetrics(simulate(nodes.list(), all, state, now, log), opts.render);
  return gpus + renderInferenceMetrics(simulateInference(all, state, now, log), opts.render);
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/metrics') {
    let body: string;
    try {
      body = metrics();
    } catch (error) {
      log(`cannot render metrics: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  } else if (path === '/healthz') {
    const ready = synced.has('nodes') && synced.has('pods');
    res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok\n' : 'syncing\n');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
  }
});
server.on('error', (error) => {
  log(`cannot serve on ${opts.address}:${opts.port}: ${error.message}`);
  process.exit(1);
});
server.listen(opts.port, opts.address, () => {
  log(
    `serving http://${opts.address}:${opts.port}/metrics (labels: ${opts.render.labelStyle}, host label: ${opts.render.hostnameLabel})`,
  );
  keepWatching('nodes', nodes);
  keepWatching('pods', pods);
});

const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  void Promise.allSettled([nodes.stop(), pods.stop()]).then(() => {
    server.close();
    process.exit(0);
  });
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
