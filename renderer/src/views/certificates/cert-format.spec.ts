import { describe, expect, it } from 'vitest';
import { expiryTone, formatSkew, stagePercent } from './cert-format';

const now = new Date('2026-06-01T00:00:00Z');
const at = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString();

describe('certificate formatting', () => {
  it('colours expiry: expired red, under 30 days orange, revoked grey, else teal', () => {
    expect(expiryTone({ notAfter: at(-10), status: 'valid' }, now)).toMatchObject({ color: 'red', state: 'expired', label: 'expired 10 d ago' });
    expect(expiryTone({ notAfter: at(29.5), status: 'valid' }, now)).toMatchObject({ color: 'orange', state: 'expiring', label: '29 d left' });
    expect(expiryTone({ notAfter: at(30.5), status: 'valid' }, now)).toMatchObject({ color: 'teal', state: 'ok' });
    expect(expiryTone({ notAfter: at(-10), status: 'revoked' }, now)).toMatchObject({ color: 'gray', state: 'revoked' });
  });

  it('says how far off a clock is in the unit a technician reads', () => {
    expect(formatSkew(-1_796_042_129)).toBe('57 years behind');
    expect(formatSkew(42)).toBe('42 s ahead');
    expect(formatSkew(-600)).toBe('10 min behind');
  });

  it('turns a stage into progress, skipping install when there is no target', () => {
    expect(stagePercent('queued', false)).toBe(0);
    expect(stagePercent('verify', false)).toBe(86);
    expect(stagePercent('install', true)).toBe(75);
    expect(stagePercent('done', true)).toBe(100);
  });
});
