import type { Device, DeviceAdd } from '../../../../shared/contract';

/** A path (`/dev/ttyUSB0`) or a Windows port (`COM3`) is a serial console; anything else is a host name or IP. */
export function isSerialTarget(target: string): boolean {
  return target.startsWith('/') || /^COM\d+$/i.test(target);
}

/** What the "Add device" form sends: one field takes a host, an IP or a serial path. */
export function toDeviceAdd(name: string, target: string): DeviceAdd {
  const trimmedName = name.trim();
  const trimmedTarget = target.trim();
  const input: DeviceAdd = isSerialTarget(trimmedTarget) ? { serialPath: trimmedTarget } : { host: trimmedTarget };
  if (trimmedName) input.name = trimmedName;
  return input;
}

/** Every text a technician might type to find a device: name, addresses, hostnames, MACs, serial path, tags. */
export function deviceMatches(device: Device, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const haystack = [device.name, device.notes, device.serialPath ?? '', ...device.hostnames, ...device.addresses, ...device.macs, ...Object.values(device.tags)];
  return haystack.some((value) => value.toLowerCase().includes(q));
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** "just now", "5 minutes ago", "2 days ago". */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  const elapsed = now.getTime() - then;
  const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(elapsed) >= ms) return format.format(-Math.round(elapsed / ms), unit);
  }
  return 'just now';
}
