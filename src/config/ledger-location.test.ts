import { describe, expect, it } from 'vitest';
import { resolveLedger } from './ledger-location.ts';

describe('the ledger location', () => {
  it.each([
    ['the flag beats the variable', 'flag-dir', { AICOST_LEDGER: 'env-dir' }, 'flag-dir'],
    ['the variable beats the default', undefined, { AICOST_LEDGER: 's3://b/p' }, 's3://b/p'],
    ['an empty variable is not set', undefined, { AICOST_LEDGER: '' }, '.aicost/ledger'],
    ['the default is under the working directory', undefined, {}, '.aicost/ledger'],
  ])('%s', (_, flag, env, expected) => {
    expect(resolveLedger(flag, env)).toBe(expected);
  });
});
