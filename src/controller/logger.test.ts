import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function captured() {
  const lines: string[] = [];
  return {
    lines,
    log: createLogger({ level: 'info', identity: 'op-0' }, { write: (line: string) => void lines.push(line) }),
  };
}

describe('createLogger', () => {
  it('writes [Redacted] for the known secret keys, at the top and nested', () => {
    const { lines, log } = captured();
    log.info(
      {
        password: 'pw-1',
        prometheus: { url: 'https://prom/', password: 'pw-2', auth: { token: 'tok-3' } },
        request: { headers: { authorization: 'Bearer tok-4', 'x-scope-orgid': 'tenant-a' } },
        aws: { credentials: { accessKeyId: 'AKID', secretAccessKey: 'sk-5' } },
      },
      'settings',
    );
    const line = lines.join('');
    for (const secret of ['pw-1', 'pw-2', 'tok-3', 'tok-4', 'sk-5']) expect(line).not.toContain(secret);
    expect(line).toContain('tenant-a');
    expect(line).toContain('https://prom/');
    expect(JSON.parse(line)).toMatchObject({ identity: 'op-0', password: '[Redacted]' });
  });

  it('keeps the fields the operator logs (key, path, err)', () => {
    const { lines, log } = captured();
    log.warn({ key: 'ml/train', path: '/api/v1/pods', err: 'Error: x' }, 'retry');
    expect(JSON.parse(lines.join(''))).toMatchObject({ key: 'ml/train', path: '/api/v1/pods', err: 'Error: x' });
  });
});
