import { describe, expect, it } from 'vitest';
import { blankDevice } from '../../../../shared/contract/devices';
import { cipherText } from './trust-section';

describe('cipherText (device details)', () => {
  const device = (ssh: Record<string, unknown>) => blankDevice('d1', '2026-01-01T00:00:00Z', { ssh: { port: 22, user: 'root', ...ssh } });
  it('says the cipher and why, or that it is chosen at first connection', () => {
    expect(cipherText(device({}))).toBe('chosen at first connection');
    expect(cipherText(device({ cipher: 'chacha20-poly1305@openssh.com', cpuAes: false }))).toBe('chacha20-poly1305@openssh.com (no AES instructions on the device)');
    expect(cipherText(device({ cipher: 'aes128-gcm@openssh.com', cpuAes: true }))).toBe('aes128-gcm@openssh.com (the device has AES instructions)');
    expect(cipherText(device({ cipher: 'aes128-gcm@openssh.com', cpuAes: null }))).toBe('aes128-gcm@openssh.com (CPU features unknown)');
  });
});
