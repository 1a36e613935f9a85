import { describe, expect, it } from 'vitest';
import { SAMPLE_DISPLAY as display, SAMPLE_LEDGER as base } from '../testing/cost-fixtures.ts';
import { parseMoney } from './money.ts';
import { parseLedger, renderAnnotations } from './ledger.ts';

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
