import { describe, expect, it } from 'vitest';
import { forProgram, programName } from './program-name.ts';

describe('the program name', () => {
  it.each([
    ['/usr/local/bin/kubectl-aicost', 'kubectl aicost'],
    ['/home/me/.krew/bin/kubectl-aicost.js', 'kubectl aicost'],
    ['/app/dist/main.js', 'aicost'],
    ['/usr/local/bin/aicost', 'aicost'],
    ['/work/src/main.ts', 'aicost'],
    ['/usr/local/bin/kubectl-aicost-old', 'aicost'],
    [undefined, 'aicost'],
  ])('%s is %s', (path, name) => {
    expect(programName(path)).toBe(name);
  });

  it('rewrites aicost where it stands as the command, nothing else', () => {
    const text = [
      'Usage: aicost report --by KEY',
      'aicost: unknown',
      '"aicost report runs --help" (aicost export) `aicost version`',
      'aicost_build_info .aicost/ledger AICOST_LEDGER aicost.dev/cost aicost-operator xaicost y',
    ].join('\n');
    expect(forProgram(text, 'kubectl aicost').split('\n')).toEqual([
      'Usage: kubectl aicost report --by KEY',
      'kubectl aicost: unknown',
      '"kubectl aicost report runs --help" (kubectl aicost export) `kubectl aicost version`',
      'aicost_build_info .aicost/ledger AICOST_LEDGER aicost.dev/cost aicost-operator xaicost y',
    ]);
    expect(forProgram(text, 'aicost')).toBe(text);
  });
});
