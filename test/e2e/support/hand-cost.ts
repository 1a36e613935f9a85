/**
 * GPU workloads on the local cluster's p4d.24xlarge nodes, their cost by hand, and the ledger to compare it
 * with. The pods ask for GPUs only, so by docs/cost-model.md a pod costs its GPUs × the p4d's GPU price × the
 * seconds from its start: an exact sum in nano-dollars, never a float.
 */
import type { KubeClient } from '../../../src/controller/kube-client.ts';
import type { Nanos } from '../../../src/cost/money.ts';
import { loadLedger, type LoadedLedger } from '../../../src/ledger/durable.ts';
import { openSink } from '../../../src/ledger/open-sink.ts';
import type { S3Settings } from '../../../src/ledger/s3-settings.ts';
import { LedgerStore } from '../../../src/ledger/store.ts';
import { runningPod, type PodLike } from './cluster.ts';

/** The GPU part of a p4d.24xlarge per GPU-hour (docs/cost-model.md), in nano-dollars. */
export const P4D_GPU_HOUR_NANOS = 1_760_705_250n;

/**
 * How far a ledger's cost may be from the hand computation: each cycle adds an amount rounded to the nano, so
 * a few hundred cycles drift by at most a few hundred nanos.
 */
export const LEDGER_TOLERANCE_NANOS = 1000n;

/** A pod as the hand computation sees it. */
export interface Held {
  readonly gpus: number;
  readonly startedS: number;
}

export interface GpuPodOptions {
  readonly gpus: number;
  /** The GPU utilization (percent) the DCGM simulator reports for the pod's GPUs. */
  readonly utilization: string;
  /** On the workload and its pods. */
  readonly labels?: Record<string, string>;
  /** More annotations on its pods, e.g. the DCGM simulator's vLLM rates. */
  readonly annotations?: Record<string, string>;
}

function p4dPodTemplate(app: string, options: GpuPodOptions) {
  return {
    metadata: {
      labels: { app, ...options.labels },
      annotations: { 'dcgm-sim.aicost.dev/utilization': options.utilization, ...options.annotations },
    },
    spec: {
      nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
      containers: [
        {
          name: 'main',
          image: 'registry.local/ml:1',
          resources: { limits: { 'nvidia.com/gpu': `${options.gpus}` } },
        },
      ],
    },
  };
}

/** A Job whose pod (labelled app=<name>) runs until it is deleted; once that pod runs. */
export async function gpuJob(
  client: KubeClient,
  namespace: string,
  name: string,
  options: GpuPodOptions,
): Promise<Held & { pod: PodLike }> {
  const template = p4dPodTemplate(name, options);
  await client.create(`/apis/batch/v1/namespaces/${namespace}/jobs`, {
    metadata: { name, labels: options.labels ?? {} },
    spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } },
  });
  return held(client, namespace, name, options.gpus);
}

/** A Deployment of `replicas` (1 by default) pods labelled app=<name>; once one of them runs. */
export async function gpuDeployment(
  client: KubeClient,
  namespace: string,
  name: string,
  options: GpuPodOptions & { readonly replicas?: number },
): Promise<Held & { pod: PodLike }> {
  await client.create(`/apis/apps/v1/namespaces/${namespace}/deployments`, {
    metadata: { name, labels: options.labels ?? {} },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: p4dPodTemplate(name, options),
    },
  });
  return held(client, namespace, name, options.gpus);
}

async function held(
  client: KubeClient,
  namespace: string,
  app: string,
  gpus: number,
): Promise<Held & { pod: PodLike }> {
  const pod = await runningPod(client, namespace, `app=${app}`);
  return { gpus, startedS: Date.parse(pod.status.startTime ?? '') / 1000, pod };
}

/** The hand computation: `gpus` GPUs of a p4d from the pod's start to `untilS`, in nano-dollars. */
export function handNanos(h: Held, untilS: number): Nanos {
  return (P4D_GPU_HOUR_NANOS * BigInt(h.gpus) * BigInt(Math.round((untilS - h.startedS) * 1000))) / 3_600_000n;
}

/** Every target of a cluster's ledger, as a restart would resume from it (with the default 1 h window). */
export async function readLedger(
  location: string,
  clusterId: string,
  s3?: S3Settings,
): Promise<LoadedLedger['targets']> {
  const store = new LedgerStore(await openSink(location, s3));
  return (await loadLedger(store, clusterId, 3600, Date.now())).targets;
}
