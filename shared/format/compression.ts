import type { FlushCompression } from '../contract/devices';

/** How a device's flushes travel, for its details (CLI `devices show`, the Devices drawer). */
export function compressionText(c: FlushCompression | undefined): string {
  if (!c) return 'decided at the first flush of 16 MiB or more';
  return `${c.choice === 'gzip' ? 'gzip on the device' : 'none'} — ${c.reason} (measured ${c.decidedAt})`;
}
