import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned, serialNumber } from './self-signed.ts';

describe('serialNumber', () => {
  it.each([
    ['00 01', '4001'],
    ['00 ff', '40ff'],
    ['ff 00', '7f00'],
    ['80 00', '4000'],
    ['7f 7f', '7f7f'],
  ])('%s gives a positive, minimally encoded INTEGER', (bytes, hex) => {
    const serial = serialNumber(Buffer.from(bytes.replace(' ', ''), 'hex'));
    expect(serial.toString('hex')).toBe(hex);
    expect(serial[0]).toBeGreaterThan(0);
    expect(serial[0]).toBeLessThan(0x80);
  });

  it('a certificate made with it parses', () => {
    const pair = generateSelfSigned(['localhost', '127.0.0.1'], new Date(Date.UTC(2026, 11, 1)));
    const cert = new X509Certificate(pair.cert);
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
  });
});
