import { describe, expect, it } from 'vitest';
import { matchesSelector } from '../policy/selector.ts';
import { ConfigError, parseConfig } from './config.ts';
import { parseNodeSelector, selectorKeys } from './node-selector.ts';

describe('--account-nodes', () => {
  it('accounts every node by default', () => {
    expect(parseConfig([], {}, 'h').accountNodes).toBeUndefined();
    expect(parseConfig(['--account-nodes', '  '], {}, 'h').accountNodes).toBeUndefined();
  });

  it('is parsed once, from the flag or AICOST_ACCOUNT_NODES (the flag wins)', () => {
    const fromEnv = parseConfig([], { AICOST_ACCOUNT_NODES: 'pool=etl' }, 'h').accountNodes;
    expect(fromEnv).toEqual({ matchExpressions: [{ key: 'pool', operator: 'In', values: ['etl'] }] });
    const fromFlag = parseConfig(['--account-nodes', 'pool=gpu'], { AICOST_ACCOUNT_NODES: 'pool=etl' }, 'h');
    expect(fromFlag.accountNodes).toEqual({ matchExpressions: [{ key: 'pool', operator: 'In', values: ['gpu'] }] });
  });

  it.each([
    ['a=b', [{ key: 'a', operator: 'In', values: ['b'] }]],
    ['a==b', [{ key: 'a', operator: 'In', values: ['b'] }]],
    ['a = b', [{ key: 'a', operator: 'In', values: ['b'] }]],
    ['a=', [{ key: 'a', operator: 'In', values: [''] }]],
    ['a!=b', [{ key: 'a', operator: 'NotIn', values: ['b'] }]],
    ['karpenter.sh/nodepool in (gpu, etl)', [{ key: 'karpenter.sh/nodepool', operator: 'In', values: ['gpu', 'etl'] }]],
    ['tier notin (spot)', [{ key: 'tier', operator: 'NotIn', values: ['spot'] }]],
    ['aicost.dev/account', [{ key: 'aicost.dev/account', operator: 'Exists' }]],
    ['!aicost.dev/skip', [{ key: 'aicost.dev/skip', operator: 'DoesNotExist' }]],
    [
      'pool in (a,b),!skip, zone=z1',
      [
        { key: 'pool', operator: 'In', values: ['a', 'b'] },
        { key: 'skip', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'In', values: ['z1'] },
      ],
    ],
  ])('reads %j', (text, matchExpressions) => {
    expect(parseNodeSelector(text)).toEqual({ selector: { matchExpressions } });
  });

  it.each([
    ['a=b,', '"a=b," has an empty requirement'],
    [
      'Team Name=x',
      '"Team Name=x" is not a requirement such as key=value, key!=value, key in (a,b), key notin (a,b), key or !key',
    ],
    ['a=b=c', '"a=b=c" is not a requirement such as key=value, key!=value, key in (a,b), key notin (a,b), key or !key'],
    ['a=-x', '"a=-x": "-x" is not a label value'],
    ['a in (x,-y)', '"a in (x,-y)": "-y" is not a label value'],
    ['!a in (x)', '"!a in (x)": a set requirement cannot be negated with !'],
    ['-a', '"-a": "-a" is not a label key such as team or karpenter.sh/nodepool'],
    [
      'a in (x',
      '"a in (x" is not a requirement such as key=value, key!=value, key in (a,b), key notin (a,b), key or !key',
    ],
  ])('refuses %j', (text, problem) => {
    expect(parseNodeSelector(text)).toEqual({ problems: [problem] });
    expect(() => parseConfig(['--account-nodes', text], {}, 'h')).toThrow(ConfigError);
    expect(() => parseConfig(['--account-nodes', text], {}, 'h')).toThrow(`--account-nodes: ${problem}`);
  });

  it.each([
    ['pool=etl', { pool: 'etl' }, true],
    ['pool=etl', { pool: 'gpu' }, false],
    ['pool=etl', {}, false],
    // As kubectl: != and notin also select the nodes without the label.
    ['pool!=etl', {}, true],
    ['pool!=etl', { pool: 'etl' }, false],
    ['pool notin (a,b)', { pool: 'c' }, true],
    ['pool in (a,b)', { pool: 'b' }, true],
    ['!skip', { skip: '' }, false],
    ['!skip', {}, true],
    ['skip', { skip: '' }, true],
    ['pool=etl,!skip', { pool: 'etl', skip: 'yes' }, false],
  ])('%j on a node labelled %j selects it: %s', (text, labels, selected) => {
    const parsed = parseNodeSelector(text);
    if (!('selector' in parsed)) throw new Error('not parsed');
    expect(matchesSelector(parsed.selector, labels)).toBe(selected);
  });

  it('names the keys a CPU-only node’s projection must keep', () => {
    const parsed = parseNodeSelector('pool in (a), !skip, karpenter.sh/nodepool');
    if (!('selector' in parsed)) throw new Error('not parsed');
    expect(selectorKeys(parsed.selector)).toEqual(['pool', 'skip', 'karpenter.sh/nodepool']);
    expect(selectorKeys(undefined)).toEqual([]);
  });
});
