/** Formatting for the Workloads view: sizes, rates, durations, transfer progress. Pure, unit-tested. */
import { formatBytes, formatRate, percent } from '../buffers/transfer-format';

// Sizes and rates read the same everywhere in the app: one formatter, the buffers view's.
export { formatBytes, formatRate } from '../buffers/transfer-format';

/** 59 s, 4 min 05 s, 3 h 12 min, 2 d 4 h: two units at most, what a technician reads at a glance. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export interface TransferProgress {
  bytesSent: number;
  bytesTotal: number;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

/** Percent for a progress bar (0–100), never NaN for an empty transfer. */
export function progressPercent(p: Pick<TransferProgress, 'bytesSent' | 'bytesTotal'>): number {
  return percent(p.bytesSent, p.bytesTotal);
}

/** The ETA the core reported, else one from the rate; null while the rate is unknown. */
export function etaSeconds(p: TransferProgress): number | null {
  if (p.etaSeconds !== null && Number.isFinite(p.etaSeconds)) return p.etaSeconds;
  const left = p.bytesTotal - p.bytesSent;
  if (left <= 0) return 0;
  return p.bytesPerSecond > 0 ? left / p.bytesPerSecond : null;
}

/** "12.4 MiB of 80.0 MiB · 4.10 MiB/s · 16 s left". */
export function progressLabel(p: TransferProgress): string {
  const parts = [`${formatBytes(p.bytesSent)} of ${formatBytes(p.bytesTotal)}`];
  if (p.bytesPerSecond > 0) parts.push(formatRate(p.bytesPerSecond));
  const eta = etaSeconds(p);
  if (eta !== null && p.bytesSent < p.bytesTotal) parts.push(`${formatDuration(eta)} left`);
  return parts.join(' · ');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Tone for a container state / health badge. */
export function stateColor(state: string, health: string | null): string {
  if (health === 'unhealthy') return 'red';
  if (health === 'starting') return 'yellow';
  if (state === 'running') return 'teal';
  if (state === 'restarting' || state === 'paused') return 'orange';
  if (state === 'dead') return 'red';
  return 'gray';
}
