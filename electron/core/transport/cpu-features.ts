/** What `/proc/cpuinfo` tells about a device's CPU: its family and whether it has AES instructions. */
export interface CpuFeatures {
  arch: 'x86' | 'arm' | 'unknown';
  /** AES instructions (x86 `flags: … aes …`, arm `Features: … aes …`); null when the file says nothing either way. */
  aes: boolean | null;
}

/**
 * Parses Linux's /proc/cpuinfo: x86 lists CPU features as `flags`, arm (32 and 64 bit) as `Features`, once per
 * processor. AES counts only if every processor listed has it (big.LITTLE parts list each core).
 */
export function parseCpuInfo(text: string): CpuFeatures {
  const x86: string[][] = [];
  const arm: string[][] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.trim();
    if (key === 'flags') x86.push(m[2]!.trim().split(/\s+/));
    else if (key === 'Features') arm.push(m[2]!.trim().split(/\s+/));
  }
  const lists = x86.length ? x86 : arm;
  if (!lists.length) return { arch: 'unknown', aes: null };
  return { arch: x86.length ? 'x86' : 'arm', aes: lists.every((flags) => flags.includes('aes')) };
}

export const CHACHA20 = 'chacha20-poly1305@openssh.com';
export const AES_GCM = 'aes128-gcm@openssh.com';

/**
 * The cipher to ask a device for. The device's CPU encrypts everything the flush sends, and without AES
 * instructions AES-GCM runs in software at a fraction of ChaCha20-Poly1305's speed (a Raspberry Pi 4); with them
 * (and when unknown) AES-GCM is the faster one.
 */
export function cipherFor(aes: boolean | null): string {
  return aes === false ? CHACHA20 : AES_GCM;
}
