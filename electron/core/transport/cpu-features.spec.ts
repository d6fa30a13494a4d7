import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AES_GCM, CHACHA20, cipherFor, parseCpuInfo } from './cpu-features';

const sample = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('parseCpuInfo', () => {
  it('reads the aes flag of an x86 CPU (AMD EPYC, captured on the CI machine)', () => {
    expect(parseCpuInfo(sample('cpuinfo-x86-epyc.txt'))).toEqual({ arch: 'x86', aes: true });
  });

  it('sees no AES on a Raspberry Pi 4 (Cortex-A72, arm64 Features without aes)', () => {
    expect(parseCpuInfo(sample('cpuinfo-arm64-pi4.txt'))).toEqual({ arch: 'arm', aes: false });
  });

  it('sees AES on an arm64 part with the crypto extensions (Cortex-A55)', () => {
    expect(parseCpuInfo(sample('cpuinfo-arm64-a55-aes.txt'))).toEqual({ arch: 'arm', aes: true });
  });

  it('sees no AES on a 32-bit ARMv7 kernel (Raspberry Pi 3)', () => {
    expect(parseCpuInfo(sample('cpuinfo-armv7-pi3.txt'))).toEqual({ arch: 'arm', aes: false });
  });

  it('takes x86 flags with aes masked out, and does not mistake vaes or aes-like words for aes', () => {
    const masked = sample('cpuinfo-x86-epyc.txt').replace(/ aes /g, ' ').replace(/ vaes /g, ' vaes ');
    expect(parseCpuInfo(masked)).toEqual({ arch: 'x86', aes: false });
    expect(parseCpuInfo('processor : 0\nFeatures : fp asimd aes2 xaes\n')).toEqual({ arch: 'arm', aes: false });
  });

  it('counts AES only if every processor has it, and says unknown when the file lists no features', () => {
    expect(parseCpuInfo('processor : 0\nFeatures : fp aes\n\nprocessor : 1\nFeatures : fp\n').aes).toBe(false);
    expect(parseCpuInfo('')).toEqual({ arch: 'unknown', aes: null });
    expect(parseCpuInfo('processor : 0\nmodel name : something\n')).toEqual({ arch: 'unknown', aes: null });
  });
});

describe('cipherFor', () => {
  it('prefers ChaCha20-Poly1305 without AES instructions, AES-GCM with them or when unknown', () => {
    expect(cipherFor(false)).toBe(CHACHA20);
    expect(cipherFor(true)).toBe(AES_GCM);
    expect(cipherFor(null)).toBe(AES_GCM);
  });
});
