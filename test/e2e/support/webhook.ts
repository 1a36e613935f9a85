/**
 * The operator's admission webhook on the real API server, for the suites that need it (spot placement,
 * budgets that refuse pods): a certificate made by `aicost webhook-cert`, the operator started with
 * --webhook-port, and a MutatingWebhookConfiguration that calls it by URL with the CA bundle, for the
 * namespaces a selector picks only (other suites never meet it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { kubectlFor } from './cluster.ts';
import { OperatorProcess } from './operator.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

// The API server calls the operator running on this machine. The local cluster's API server runs here too; on
// another cluster (kind runs its API server in a container) give an address of this machine it can reach.
export const WEBHOOK_HOST = process.env.AICOST_E2E_WEBHOOK_HOST ?? '127.0.0.1';
/** On an existing cluster without a reachable address for this machine, the webhook suites are skipped. */
export const SKIP_WEBHOOK =
  process.env.AICOST_E2E_EXISTING_CLUSTER === '1' && process.env.AICOST_E2E_WEBHOOK_HOST === undefined;

/** kubectl that does not throw: status and both streams (admission warnings go to stderr). */
export function kubectlRunner(kubeconfig: string) {
  return (args: string[], input?: string) => {
    const r = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolvePort(port);
      });
    });
  });
}

export interface WebhookOperator {
  readonly op: OperatorProcess;
  readonly port: number;
  readonly certDir: string;
}

/** The operator with its webhook server on a free port, serving a certificate for WEBHOOK_HOST. */
export async function startWebhookOperator(options: {
  readonly kubeconfig: string;
  readonly logDir: string;
  readonly name: string;
  readonly args: readonly string[];
}): Promise<WebhookOperator> {
  const certDir = mkdtempSync(join(tmpdir(), 'aicost-webhook-'));
  execFileSync(
    process.execPath,
    [join(ROOT, 'src/main.ts'), 'webhook-cert', '--dir', certDir, '--hosts', WEBHOOK_HOST],
    {
      stdio: 'ignore',
    },
  );
  const port = await freePort();
  const op = OperatorProcess.start({
    kubeconfig: options.kubeconfig,
    logDir: options.logDir,
    name: options.name,
    args: [
      ...options.args,
      ...['--webhook-port', String(port), '--webhook-cert-dir', certDir],
      ...(WEBHOOK_HOST === '127.0.0.1' ? [] : ['--bind-address', '0.0.0.0']),
    ],
  });
  return { op, port, certDir };
}

/**
 * Registers the webhook for Pod CREATE in the namespaces `namespaceSelector` picks: failurePolicy Ignore, as
 * the chart's default, so a stopped operator admits pods.
 */
export function registerWebhook(
  kubectl: ReturnType<typeof kubectlFor>,
  name: string,
  webhook: Pick<WebhookOperator, 'port' | 'certDir'>,
  namespaceSelector: Record<string, unknown>,
): void {
  const host = WEBHOOK_HOST.includes(':') ? `[${WEBHOOK_HOST}]` : WEBHOOK_HOST;
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name },
      webhooks: [
        {
          name: 'pods.aicost.dev',
          clientConfig: {
            url: `https://${host}:${String(webhook.port)}/mutate-v1-pod`,
            caBundle: Buffer.from(readFileSync(join(webhook.certDir, 'ca.crt'))).toString('base64'),
          },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          failurePolicy: 'Ignore',
          timeoutSeconds: 3,
          sideEffects: 'NoneOnDryRun',
          admissionReviewVersions: ['v1'],
          namespaceSelector,
        },
      ],
    }),
  );
}
