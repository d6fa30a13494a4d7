/**
 * Whatever a device on the network says about itself (banners, mDNS names, TXT values, HTML titles) is hostile
 * until proven otherwise: it may be huge, binary, or carry terminal escapes that would repaint a technician's
 * terminal. Everything shown or stored goes through here.
 */
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b(\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(\u0007|\u001b\\)?|[@-Z\\-_])/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g;

export function sanitizeText(input: string, maxLength = 256): string {
  const cleaned = input.replace(ANSI_ESCAPE, '').replace(CONTROL, '').replace(/\uFFFD/g, '').trim();
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength - 1)}…` : cleaned;
}

/** The first line of a byte buffer, decoded leniently and sanitised. */
export function firstLine(bytes: Buffer, maxLength = 256): string {
  const end = bytes.indexOf(0x0a);
  const line = (end >= 0 ? bytes.subarray(0, end) : bytes).subarray(0, maxLength * 4).toString('utf8');
  return sanitizeText(line, maxLength);
}

const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A hostname we are willing to store: DNS labels only, lower-cased, without the trailing dot. */
export function cleanHostname(name: string): string | undefined {
  const trimmed = name.replace(/\.$/, '').toLowerCase();
  if (trimmed.length === 0 || trimmed.length > 253) return undefined;
  return trimmed.split('.').every((l) => HOST_LABEL.test(l)) ? trimmed : undefined;
}

const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;

export function cleanMac(mac: string): string | undefined {
  if (!MAC.test(mac)) return undefined;
  const normal = mac.toLowerCase().replace(/-/g, ':');
  return normal === '00:00:00:00:00:00' || normal === 'ff:ff:ff:ff:ff:ff' ? undefined : normal;
}
