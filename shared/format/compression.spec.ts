import { describe, expect, it } from 'vitest';
import { compressionText } from './compression';

describe('compressionText', () => {
  it('says what was chosen, why, and when', () => {
    expect(compressionText({ choice: 'gzip', linkBps: 11e6, compressBps: 4e7, ratio: 6, reason: 'link 11 MB/s, device gzip 40 MB/s at 6.0x: ~3.6x faster compressed', decidedAt: '2026-11-30T12:00:00.000Z' })).toBe(
      'gzip on the device — link 11 MB/s, device gzip 40 MB/s at 6.0x: ~3.6x faster compressed (measured 2026-11-30T12:00:00.000Z)',
    );
    expect(compressionText(undefined)).toMatch(/first flush/);
  });
});
