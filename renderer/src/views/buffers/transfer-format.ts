import type { PayloadOf } from '../../../../shared/contract';

export type FlushProgressEvent = PayloadOf<'flush:progress'>;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB"; exact bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '—';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** null → "—" (no rate yet), 0 → "done", 75 → "1 min 15 s", 3900 → "1 h 05 min". */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds === 0) return 'done';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

export function percent(done: number, total: number): number {
  if (total <= 0) return done > 0 ? 100 : 0;
  return Math.min(100, Math.max(0, (done / total) * 100));
}

/** One device's streams summed: the device row's bar. ETA is the slowest stream's, unknown if any is unknown. */
export function deviceProgress(streams: readonly FlushProgressEvent[]): { bytesDone: number; bytesTotal: number; rate: number; etaSeconds: number | null } {
  let bytesDone = 0;
  let bytesTotal = 0;
  let rate = 0;
  let etaSeconds: number | null = 0;
  for (const s of streams) {
    bytesDone += s.bytesDone;
    bytesTotal += s.bytesTotal;
    // The core reports one device-wide rate on every stream of that device, so take it once, not summed.
    rate = Math.max(rate, s.rate);
    etaSeconds = etaSeconds === null || s.etaSeconds === null ? null : Math.max(etaSeconds, s.etaSeconds);
  }
  return { bytesDone, bytesTotal, rate, etaSeconds };
}

/** "3 min ago"-free absolute age for the oldest segment: "2 h 10 min" since `iso`. */
export function formatAge(iso: string | null, now: Date = new Date()): string {
  if (!iso) return '—';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '—';
  const seconds = Math.max(0, (now.getTime() - then) / 1000);
  if (seconds < 60) return 'under a minute';
  if (seconds < 86_400) return formatEta(seconds).replace(/ \d+ s$/, '');
  const days = Math.floor(seconds / 86_400);
  return `${days} day${days === 1 ? '' : 's'}`;
}

/** The upstream target from what the technician typed: http(s):// goes to HTTP, anything else to MQTT. */
export function upstreamTarget(url: string): { http: { url: string } } | { mqtt: { url: string } } | { error: string } {
  const u = url.trim();
  if (/^https?:\/\//.test(u)) return { http: { url: u } };
  if (/^(mqtts?|wss?|tcp|ssl):\/\//.test(u)) return { mqtt: { url: u } };
  return { error: 'give an MQTT broker (mqtt://host:1883) or an HTTP endpoint (https://host/ingest)' };
}
