import type { CertificateRecord, ProvisionStage, SubjectAltName } from '../../../../shared/contract';
import { expiryState } from '../../../../shared/contract/pki-names';

export type ExpiryTone = { label: string; color: string; state: 'expired' | 'expiring' | 'ok' | 'revoked' };

const DAY_MS = 86_400_000;

/** Expired red, under 30 days orange, revoked grey, else plain: the colour of a certificate's expiry everywhere. */
export function expiryTone(cert: Pick<CertificateRecord, 'notAfter' | 'status'>, now = new Date()): ExpiryTone {
  if (cert.status === 'revoked') return { label: 'revoked', color: 'gray', state: 'revoked' };
  const state = expiryState(cert.notAfter, now);
  const days = Math.floor((new Date(cert.notAfter).getTime() - now.getTime()) / DAY_MS);
  if (state === 'expired') return { label: days >= -1 ? 'expired' : `expired ${-days} d ago`, color: 'red', state };
  if (state === 'expiring') return { label: days <= 0 ? 'expires today' : `${days} d left`, color: 'orange', state };
  return { label: `${days} d left`, color: 'teal', state };
}

export const formatSans = (sans: readonly SubjectAltName[]): string => (sans.length ? sans.map((s) => s.value).join(', ') : '—');

export const day = (iso: string): string => iso.slice(0, 10);

/** The steps of one device's provisioning, in the order the wizard shows them. */
export const STAGE_ORDER: readonly ProvisionStage[] = ['queued', 'connect', 'clock', 'key', 'sign', 'store', 'install', 'verify', 'done'];
export const STAGE_LABEL: Record<ProvisionStage, string> = {
  queued: 'queued',
  connect: 'connecting',
  clock: 'clock check',
  key: 'key on the device',
  sign: 'signing',
  store: 'storing',
  install: 'installing',
  verify: 'verifying',
  done: 'done',
  failed: 'failed',
};

/** How far a device is, 0–100, from its latest stage (install is skipped when there is no target). */
export function stagePercent(stage: ProvisionStage, withInstall: boolean): number {
  if (stage === 'done') return 100;
  if (stage === 'failed') return 100;
  const order = STAGE_ORDER.filter((s) => withInstall || s !== 'install');
  const i = order.indexOf(stage);
  return i <= 0 ? 0 : Math.round((i / (order.length - 1)) * 100);
}

/** Readable skew: `1970-01-01 (56 years behind)`, `3 s ahead`. */
export function formatSkew(seconds: number): string {
  const abs = Math.abs(seconds);
  const dir = seconds < 0 ? 'behind' : 'ahead';
  if (abs < 120) return `${abs} s ${dir}`;
  if (abs < 7200) return `${Math.round(abs / 60)} min ${dir}`;
  if (abs < 2 * 86_400) return `${Math.round(abs / 3600)} h ${dir}`;
  if (abs < 730 * 86_400) return `${Math.round(abs / 86_400)} days ${dir}`;
  return `${Math.round(abs / (365.25 * 86_400))} years ${dir}`;
}
