import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SAMPLE_DISPLAY as display, SAMPLE_LEDGER as base } from '../testing/cost-fixtures.ts';
import { fuzzRuns, numberLikeText } from '../testing/fuzz.ts';
import { parseMoney } from './money.ts';
import { ANNOTATION, parseLedger, renderAnnotations } from './ledger.ts';

describe('ledger annotations', () => {
  it('render the ledger and read it back', () => {
    const a = renderAnnotations(base, display);
    expect(a).toEqual({
      'aicost.dev/cost': '12.345679',
      'aicost.dev/cost-per-hour': '4.5000',
      'aicost.dev/gpu-hours': '2.0000',
      'aicost.dev/idle-gpu-hours': '0.5000',
      'aicost.dev/idle-gpu-cost': '0.750000',
      'aicost.dev/gpu-utilization': '42',
      'aicost.dev/currency': 'EUR',
      'aicost.dev/accounted-until': '2026-11-23T10:00:00Z',
    });
    expect(parseLedger(a)).toEqual({
      ...base,
      cost: parseMoney('12.345679'),
      idleGpuCost: parseMoney('0.75'),
      spotSavings: undefined,
    });
  });

  it.each([
    ['unknown while nothing was measured', undefined, undefined, 'unknown', 'unknown', undefined],
    ['measured', 1800, '0.75', '0.5000', '0.750000', '0.75'],
    ['measured, and none of it idle', 60, '0', '0.0167', '0.000000', '0'],
  ])('write the idle GPU cost beside the idle GPU-hours: %s', (_, seconds, cost, hours, text, parsed) => {
    const ledger = { ...base, idleGpuSeconds: seconds, idleGpuCost: cost === undefined ? undefined : parseMoney(cost) };
    const a = renderAnnotations(ledger, display);
    expect([a['aicost.dev/idle-gpu-hours'], a['aicost.dev/idle-gpu-cost']]).toEqual([hours, text]);
    expect(parseLedger(a)?.idleGpuCost).toBe(parsed === undefined ? undefined : parseMoney(parsed));
  });

  it.each([
    // Written before the annotation existed: accrual starts it at the next measurement.
    ['absent', { 'aicost.dev/idle-gpu-hours': '0.5000' }, undefined],
    ['malformed', { 'aicost.dev/idle-gpu-hours': '0.5000', 'aicost.dev/idle-gpu-cost': 'lots' }, undefined],
    ['negative', { 'aicost.dev/idle-gpu-hours': '0.5000', 'aicost.dev/idle-gpu-cost': '-1.000000' }, undefined],
    // Without idle GPU-hours an idle cost prices nothing: both stay unknown.
    ['beside unknown hours', { 'aicost.dev/idle-gpu-hours': 'unknown', 'aicost.dev/idle-gpu-cost': '1.0' }, undefined],
    ['valid', { 'aicost.dev/idle-gpu-hours': '0.5000', 'aicost.dev/idle-gpu-cost': '1.250000' }, '1.25'],
  ])('read an idle GPU cost that is %s', (_, extra, expected) => {
    const a = { 'aicost.dev/cost': '1.000000', 'aicost.dev/accounted-until': '2026-11-23T10:00:00Z', ...extra };
    expect(parseLedger(a)?.idleGpuCost).toBe(expected === undefined ? undefined : parseMoney(expected));
  });

  it('write aicost.dev/spot-savings only for objects that ran on spot, and read it back', () => {
    const a = renderAnnotations({ ...base, spotSavings: parseMoney('8.25') }, display);
    expect(a['aicost.dev/spot-savings']).toBe('8.250000');
    expect(parseLedger(a)?.spotSavings).toBe(parseMoney('8.25'));
    expect(parseLedger({ ...a, 'aicost.dev/spot-savings': 'lots' })?.spotSavings).toBeUndefined();
  });
});

describe('ledger annotations a tenant wrote (properties)', () => {
  it('read gpu-hours and idle-gpu-hours as non-negative decimals only: never Infinity, "0x10" or " "', () => {
    const read = (hours: string, idle: string) =>
      parseLedger({
        ...renderAnnotations(base, display),
        'aicost.dev/gpu-hours': hours,
        'aicost.dev/idle-gpu-hours': idle,
      });
    expect(read('1e308', '1e308')).toMatchObject({ gpuSeconds: 0, idleGpuSeconds: undefined });
    expect(read('0x10', ' ')).toMatchObject({ gpuSeconds: 0, idleGpuSeconds: undefined });
    expect(read('-1', '')).toMatchObject({ gpuSeconds: 0, idleGpuSeconds: undefined });
    expect(read('2.5000', '0.2500')).toMatchObject({ gpuSeconds: 9000, idleGpuSeconds: 900 });
  });

  it('never throw, and give amounts and times in their domain or no ledger', () => {
    const value = fc.oneof(
      numberLikeText,
      fc.constantFrom('2026-11-23T10:00:00Z', '3000', '2026-02-31T00:00:00Z', 'unknown', '+275760-09-13T00:00:00Z'),
      fc.constantFrom('1e308', '9e307', '0x10', ' ', '-1', '1.5'),
    );
    const keys = fc.constantFrom(...Object.values(ANNOTATION));
    fc.assert(
      fc.property(fc.dictionary(keys, value), fc.boolean(), (edited, fromRendered) => {
        // Either a few keys edited on a ledger the operator wrote, or only what the tenant wrote.
        const ledger = parseLedger(fromRendered ? { ...renderAnnotations(base, display), ...edited } : edited);
        if (ledger === undefined) return;
        expect(ledger.cost >= 0n).toBe(true);
        expect(Number.isFinite(ledger.gpuSeconds) && ledger.gpuSeconds >= 0).toBe(true);
        const idle = ledger.idleGpuSeconds;
        expect(idle === undefined || (Number.isFinite(idle) && idle >= 0)).toBe(true);
        expect(ledger.idleGpuCost === undefined || ledger.idleGpuCost >= 0n).toBe(true);
        expect(ledger.spotSavings === undefined || ledger.spotSavings >= 0n).toBe(true);
        expect(Number.isSafeInteger(ledger.accountedUntil)).toBe(true);
      }),
      fuzzRuns(1000),
    );
  });

  it('read back what they render, to the precision written', () => {
    const micro = fc.bigInt({ min: 0n, max: 10n ** 12n }).map((n) => n * 1000n);
    fc.assert(
      fc.property(
        micro,
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 4e9 }),
        (cost, gpuSeconds, accountedUntil) => {
          const ledger = { ...base, cost, gpuSeconds, accountedUntil };
          const back = parseLedger(renderAnnotations(ledger, display));
          expect(back?.cost).toBe(cost);
          expect(back?.accountedUntil).toBe(accountedUntil);
          expect(Math.abs((back?.gpuSeconds ?? -1) - gpuSeconds)).toBeLessThanOrEqual(0.18 + 1e-6);
        },
      ),
      fuzzRuns(500),
    );
  });
});

describe('parseLedger reads accounted-until strictly', () => {
  it.each([
    ['2026-11-23T09:00:00Z', Date.UTC(2026, 10, 23, 9) / 1000],
    ['2026-11-23T09:00:00.5Z', Date.UTC(2026, 10, 23, 9) / 1000],
    ['3000', undefined],
    ['2026-02-31T00:00:00Z', undefined],
    ['2026-11-23T24:00:00Z', undefined],
    ['2026-11-23 09:00:00Z', undefined],
    ['2026-11-23T09:00:00+01:00', undefined],
    ['soon', undefined],
  ])('accounted-until %j gives %s', (until, seconds) => {
    const ledger = parseLedger({ 'aicost.dev/cost': '1.5', 'aicost.dev/accounted-until': until });
    expect(ledger?.accountedUntil).toBe(seconds);
  });
});
