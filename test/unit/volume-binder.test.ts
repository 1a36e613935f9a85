import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STORAGE_CLASS,
  LOCAL_CLASS,
  released,
  volumeFor,
  volumeName,
  type ClaimLike,
} from '../cluster/volume-binder-model.ts';

const claim = (over: NonNullable<ClaimLike['spec']> = {}, phase = 'Pending'): ClaimLike => ({
  metadata: { name: 'ckpt', namespace: 'ml', uid: 'u-1' },
  spec: { storageClassName: LOCAL_CLASS, resources: { requests: { storage: '10Gi' } }, ...over },
  status: { phase },
});

describe('the local volume binder', () => {
  it('is the default class, bound at once', () => {
    expect(DEFAULT_STORAGE_CLASS.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');
    expect(DEFAULT_STORAGE_CLASS.volumeBindingMode).toBe('Immediate');
  });

  it('makes a volume of the requested size, pre-bound to a pending claim of its class', () => {
    const v = volumeFor(claim());
    expect(v?.metadata.name).toBe(volumeName('u-1'));
    expect(v?.spec?.capacity).toEqual({ storage: '10Gi' });
    expect(v?.spec?.claimRef).toMatchObject({ namespace: 'ml', name: 'ckpt', uid: 'u-1' });
    expect(v?.spec?.storageClassName).toBe(LOCAL_CLASS);
    expect(v?.spec?.accessModes).toEqual(['ReadWriteOnce']);
  });

  it.each([
    ['another class', claim({ storageClassName: 'gp3' })],
    ['no class', claim({ storageClassName: '' })],
    ['a claim already bound', claim({}, 'Bound')],
    ['a claim naming its volume', claim({ volumeName: 'pv-1' })],
    ['a claim of no size', claim({ resources: {} })],
  ])('leaves alone %s', (_what, c) => {
    expect(volumeFor(c)).toBeUndefined();
  });

  it('deletes only its own released volumes', () => {
    const v = volumeFor(claim());
    if (!v) throw new Error('no volume');
    expect(released({ ...v, status: { phase: 'Released' } })).toBe(true);
    expect(released({ ...v, status: { phase: 'Bound' } })).toBe(false);
    expect(released({ metadata: {}, status: { phase: 'Released' } })).toBe(false);
  });
});
