/**
 * The chart's ledger values: the PersistentVolumeClaim (one writer: one replica, Recreate, no bucket beside it,
 * no PodDisruptionBudget that would block drains), refused by values.schema.json with the value to change, and
 * by the templates' own checks when the schema is skipped; the retention flag.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.ts';
import { CHART, find, helm, render, type Obj } from './helm.ts';

const PVC = ['--set', 'ledger.persistence.enabled=true', '--set', 'replicaCount=1', '--set', 'strategy.type=Recreate'];

interface Deployment extends Obj {
  spec: {
    replicas: number;
    strategy: { type: string; rollingUpdate?: Record<string, unknown> };
    template: {
      spec: {
        containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
        volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

interface Claim extends Obj {
  spec: { accessModes: string[]; storageClassName?: string; resources: { requests: { storage: string } } };
}

const deployment = (objs: Obj[]) => find(objs, 'Deployment') as Deployment;
const claim = (objs: Obj[]) => find(objs, 'PersistentVolumeClaim') as Claim | undefined;

/** The operator's configuration from the rendered arguments, as the pod would parse it. */
function operatorConfig(objs: Obj[]) {
  const [, ...args] = deployment(objs).spec.template.spec.containers[0]?.args ?? [];
  return parseConfig(args, {}, 'host');
}

describe('helm chart: the ledger', () => {
  it('renders the ledger on a PersistentVolumeClaim as in the snapshot', async () => {
    const show = ['--show-only', 'templates/ledger-pvc.yaml', '--show-only', 'templates/deployment.yaml'];
    const r = helm(['template', 'aicost', CHART, '--namespace', 'aicost-system', ...PVC, ...show]);
    expect(r.status, r.err).toBe(0);
    const stable = r.out.replace(/^\s*helm\.sh\/chart: .*$/gm, '    helm.sh/chart: <chart>');
    await expect(stable).toMatchFileSnapshot('__snapshots__/helm-ledger-pvc.yaml');
  });

  it('persistence: one replica, Recreate, the claim mounted and passed as --ledger, kept on uninstall', () => {
    const objs = render(...PVC);
    const d = deployment(objs);
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    const pod = d.spec.template.spec;
    expect(pod.volumes).toContainEqual({
      name: 'ledger',
      persistentVolumeClaim: { claimName: 'aicost-aicost-operator-ledger' },
    });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({ name: 'ledger', mountPath: '/var/lib/aicost/ledger' });
    expect(operatorConfig(objs)).toMatchObject({ ledger: '/var/lib/aicost/ledger', ledgerS3: undefined });
    const pvc = claim(objs);
    expect(pvc?.metadata).toMatchObject({
      name: 'aicost-aicost-operator-ledger',
      namespace: 'aicost-system',
      annotations: { 'helm.sh/resource-policy': 'keep' },
    });
    expect(pvc?.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '20Gi' } } });
    // One replica: a PodDisruptionBudget with minAvailable 1 would block every node drain, so there is none.
    expect(find(objs, 'PodDisruptionBudget')).toBeUndefined();
  });

  it('persistence: storage class, access modes, size and keep are the values', () => {
    const set = (...pairs: string[]) => claim(render(...PVC, ...pairs.flatMap((p) => ['--set', p])));
    expect(set('ledger.persistence.storageClassName=fast-ssd')?.spec.storageClassName).toBe('fast-ssd');
    expect(set('ledger.persistence.storageClassName=-')?.spec.storageClassName).toBe('');
    const pvc = set('ledger.persistence.accessModes={ReadWriteOncePod}', 'ledger.persistence.size=50Gi');
    expect(pvc?.spec).toMatchObject({
      accessModes: ['ReadWriteOncePod'],
      resources: { requests: { storage: '50Gi' } },
    });
    expect(set('ledger.persistence.keep=false')?.metadata.annotations).toBeUndefined();
  });

  it('persistence.existingClaim: no claim of the chart, the existing one mounted', () => {
    const objs = render(...PVC, '--set', 'ledger.persistence.existingClaim=finance-ledger');
    expect(claim(objs)).toBeUndefined();
    expect(deployment(objs).spec.template.spec.volumes).toContainEqual({
      name: 'ledger',
      persistentVolumeClaim: { claimName: 'finance-ledger' },
    });
  });

  it('without persistence: no claim, the emptyDir, the rolling update and the PodDisruptionBudget of two replicas', () => {
    const objs = render('--set', 'ledger.persistence.existingClaim=unused');
    expect(claim(objs)).toBeUndefined();
    expect(operatorConfig(objs).ledger).toBe('/tmp/aicost-ledger');
    expect(deployment(objs).spec.strategy).toEqual({ type: 'RollingUpdate' });
    expect(find(objs, 'PodDisruptionBudget')?.spec).toMatchObject({ minAvailable: 1 });
    expect(find(render('--set', 'replicaCount=1'), 'PodDisruptionBudget')).toBeUndefined();
    const rolling = render(
      '--set',
      'strategy.rollingUpdate.maxSurge=0',
      '--set',
      'strategy.rollingUpdate.maxUnavailable=1',
    );
    expect(deployment(rolling).spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
  });

  it('ledger.retention becomes --ledger-retention (400 days by default, 0 for ever)', () => {
    expect(operatorConfig(render()).ledgerRetentionMs).toBe(400 * 86_400_000);
    expect(operatorConfig(render('--set', 'ledger.retention=0')).ledgerRetentionMs).toBe(0);
    expect(operatorConfig(render('--set', 'ledger.retention=800d')).ledgerRetentionMs).toBe(800 * 86_400_000);
  });

  it.each([
    [
      ['--set', 'ledger.persistence.enabled=true'],
      ["at '/replicaCount': value must be 1", "at '/strategy/type': value must be 'Recreate'"],
    ],
    [
      ['--set', 'ledger.persistence.enabled=true', '--set', 'replicaCount=1'],
      ["at '/strategy/type': value must be 'Recreate'"],
    ],
    [
      [...PVC, '--set', 'ledger.s3.bucketUrl=s3://ledger/prod', '--set', 'ledger.s3.credentialsSecret=s3'],
      ["at '/ledger/s3/bucketUrl': value must be ''"],
    ],
    [['--set', 'strategy.type=Canary'], ["at '/strategy/type'"]],
    [[...PVC, '--set', 'ledger.persistence.accessModes={ReadOnlyMany}'], ["at '/ledger/persistence/accessModes/0'"]],
    [
      [...PVC, '--set', 'ledger.persistence.size=lots'],
      ["at '/ledger/persistence/size': 'lots' does not match pattern"],
    ],
    [[...PVC, '--set', 'ledger.persistence.existingClaim=Bad_Name'], ["at '/ledger/persistence/existingClaim'"]],
    [['--set', 'ledger.retention=12h'], ["at '/ledger/retention': '12h' does not match pattern"]],
  ])('the schema refuses %j, naming the value to change', (args, messages) => {
    const r = helm(['template', 'aicost', CHART, ...args]);
    expect(r.status).not.toBe(0);
    for (const message of messages) expect(r.err).toContain(message);
  });

  it.each([
    [
      ['--set', 'ledger.persistence.enabled=true'],
      'ledger.persistence.enabled needs replicaCount: 1 (one writer on the volume), not 2',
    ],
    [
      ['--set', 'ledger.persistence.enabled=true', '--set', 'replicaCount=1'],
      'ledger.persistence.enabled needs strategy.type: Recreate, not RollingUpdate',
    ],
    [
      [...PVC, '--set', 'ledger.s3.bucketUrl=s3://ledger/prod', '--set', 'ledger.s3.credentialsSecret=s3'],
      'ledger.persistence.enabled and ledger.s3.bucketUrl are exclusive',
    ],
  ])('without the schema (--skip-schema-validation) the templates refuse %j and say why', (args, message) => {
    const r = helm(['template', 'aicost', CHART, '--skip-schema-validation', ...args]);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain(message);
  });
});
