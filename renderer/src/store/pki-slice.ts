import type { ArgsOf, BulkSummary, CaInfo, CertificateRecord, ClockStatus, PayloadOf, ResultOf } from '../../../shared/contract';
import { expiryState } from '../../../shared/contract/pki-names';
import type { SliceCreator } from './types';
import { needsUnlock } from './vault-slice';

export type ProvisionEvent = PayloadOf<'pki:progress'>;
/** A device's clock as the wizard saw it: read, or the reason it could not be. */
export type ClockCheck = { status: ClockStatus } | { error: { kind: string; message: string } };
export type ProvisionArgs = Omit<ArgsOf<'pki:issue-bulk'>, 'link' | 'passphrase'>;
export type Preview = ResultOf<'pki:preview'>;
export type CaImportArgs = Omit<ArgsOf<'pki:ca-import'>, 'passphrase'>;

export interface PkiSlice {
  cas: CaInfo[];
  certificates: CertificateRecord[];
  pkiLoading: boolean;
  /** Live per-device progress of the provisioning in flight (and the last one), by device id. */
  provisionProgress: Record<string, ProvisionEvent>;
  provisionSummary: BulkSummary | null;
  provisioning: boolean;
  clockChecks: Record<string, ClockCheck>;
  /** CAs and certificates; `quiet` at start-up (the Devices list's warnings), where a failure is not the technician's. */
  loadPki(quiet?: boolean): Promise<void>;
  createCa(args: Omit<ArgsOf<'pki:ca-create'>, 'passphrase'>): Promise<CaInfo | null>;
  importCa(args: CaImportArgs): Promise<CaInfo | null>;
  /** The CA certificate and its chain, PEM. */
  exportCa(caId: string): Promise<string | null>;
  renewCertificate(serial: string, setClock?: boolean): Promise<boolean>;
  revokeCertificate(serial: string, reason: ArgsOf<'pki:revoke'>['reason']): Promise<boolean>;
  /** What each device's certificate would carry (names, common name), before anything is made. */
  previewCertificates(args: ArgsOf<'pki:preview'>): Promise<Preview | null>;
  checkClocks(deviceIds: string[]): Promise<void>;
  setDeviceClock(deviceId: string): Promise<boolean>;
  provisionDevices(args: ProvisionArgs): Promise<BulkSummary | null>;
  /** Runs only the failed devices of the last run again. */
  retryFailedProvisioning(setClock?: boolean): Promise<BulkSummary | null>;
  resetProvisioning(): void;
  applyPkiProgress(event: ProvisionEvent): void;
}

/** Per device, the worst state among its valid certificates: what the Devices list warns about. */
export function deviceExpiry(certificates: readonly CertificateRecord[], now = new Date()): Record<string, { state: 'expired' | 'expiring'; notAfter: string; profile: string }> {
  const out: Record<string, { state: 'expired' | 'expiring'; notAfter: string; profile: string }> = {};
  // A renewed certificate's successor settles it: only the newest of each device + profile counts.
  const newest = new Map<string, CertificateRecord>();
  for (const c of certificates) {
    if (!c.deviceId || c.status !== 'valid') continue;
    const key = `${c.deviceId}/${c.profile}`;
    const seen = newest.get(key);
    if (!seen || c.notAfter > seen.notAfter) newest.set(key, c);
  }
  for (const c of newest.values()) {
    const state = expiryState(c.notAfter, now);
    if (state === 'ok') continue;
    const prev = out[c.deviceId as string];
    if (!prev || (state === 'expired' && prev.state !== 'expired') || (state === prev.state && c.notAfter < prev.notAfter)) out[c.deviceId as string] = { state, notAfter: c.notAfter, profile: c.profile };
  }
  return out;
}

export const createPkiSlice: SliceCreator<PkiSlice> = (set, get, { api }) => {
  const link = () => get().linkOverride;
  /** The CA key is in the vault: a locked vault opens its unlock dialog rather than only failing. */
  const fail = (err: unknown, title: string) => {
    get().reportError(err, title);
    if (needsUnlock(err) || (err as { kind?: string } | null)?.kind === 'auth') get().openUnlockDialog(true);
  };

  return {
    cas: [],
    certificates: [],
    pkiLoading: true,
    provisionProgress: {},
    provisionSummary: null,
    provisioning: false,
    clockChecks: {},

    async loadPki(quiet = false) {
      try {
        const [cas, certificates] = await Promise.all([api.invoke('pki:ca-list', {}), api.invoke('pki:cert-list', {})]);
        set({ cas, certificates, pkiLoading: false });
      } catch (err) {
        set({ pkiLoading: false });
        if (!quiet) get().reportError(err, 'Could not read the certificates');
      }
    },

    async createCa(args) {
      try {
        const ca = await api.invoke('pki:ca-create', args);
        get().notify({ tone: 'success', title: 'Site CA created', message: `${ca.name} (${ca.algorithm}), valid until ${ca.notAfter.slice(0, 10)}` });
        await get().loadPki();
        return ca;
      } catch (err) {
        fail(err, 'Could not create the CA');
        return null;
      }
    },

    async importCa(args) {
      try {
        const ca = await api.invoke('pki:ca-import', args);
        get().notify({ tone: 'success', title: 'CA imported', message: `${ca.name}: ${ca.subject}` });
        await get().loadPki();
        return ca;
      } catch (err) {
        fail(err, 'Could not import the CA');
        return null;
      }
    },

    async exportCa(caId) {
      try {
        return (await api.invoke('pki:ca-export', { caId })).pem;
      } catch (err) {
        get().reportError(err, 'Could not export the CA');
        return null;
      }
    },

    async renewCertificate(serial, setClock = false) {
      try {
        const r = await api.invoke('pki:renew', { serial, setClock, link: link() });
        get().notify({ tone: 'success', title: 'Certificate renewed', message: r.certificate ? `${r.certificate.subject}: valid until ${r.certificate.notAfter.slice(0, 10)}` : serial });
        await get().loadPki();
        return true;
      } catch (err) {
        fail(err, 'Could not renew the certificate');
        return false;
      }
    },

    async revokeCertificate(serial, reason) {
      try {
        const r = await api.invoke('pki:revoke', { serial, reason, link: link() });
        get().notify({ tone: 'success', title: 'Certificate revoked', message: [`${r.certificate.subject} (${serial.slice(0, 16)})`, ...r.notes].join(' — ') });
        await get().loadPki();
        return true;
      } catch (err) {
        fail(err, 'Could not revoke the certificate');
        return false;
      }
    },

    async previewCertificates(args) {
      try {
        return await api.invoke('pki:preview', args);
      } catch (err) {
        get().reportError(err, 'Could not preview the certificates');
        return null;
      }
    },

    async checkClocks(deviceIds) {
      const checks = await Promise.all(
        deviceIds.map(async (id): Promise<[string, ClockCheck]> => {
          try {
            return [id, { status: await api.invoke('pki:clock-check', { device: id, link: link() }) }];
          } catch (err) {
            const e = err as { kind?: string; message?: string };
            return [id, { error: { kind: e.kind ?? 'internal', message: e.message ?? String(err) } }];
          }
        }),
      );
      set({ clockChecks: { ...get().clockChecks, ...Object.fromEntries(checks) } });
    },

    async setDeviceClock(deviceId) {
      try {
        const status = await api.invoke('pki:clock-set', { device: deviceId, link: link() });
        set({ clockChecks: { ...get().clockChecks, [deviceId]: { status } } });
        return true;
      } catch (err) {
        get().reportError(err, 'Could not set the clock');
        return false;
      }
    },

    async provisionDevices(args) {
      set({ provisioning: true, provisionSummary: null, provisionProgress: {} });
      try {
        const summary = await api.invoke('pki:issue-bulk', { ...args, link: link() });
        set({ provisionSummary: summary });
        if (summary.succeeded > 0) await get().loadPki();
        return summary;
      } catch (err) {
        fail(err, 'Could not provision');
        return null;
      } finally {
        set({ provisioning: false });
      }
    },

    async retryFailedProvisioning(setClock) {
      const last = get().provisionSummary;
      if (!last) return null;
      set({ provisioning: true });
      try {
        const summary = await api.invoke('pki:bulk-retry', { runId: last.runId, setClock, link: link() });
        set({ provisionSummary: summary });
        await get().loadPki();
        return summary;
      } catch (err) {
        fail(err, 'Could not retry');
        return null;
      } finally {
        set({ provisioning: false });
      }
    },

    resetProvisioning() {
      set({ provisionSummary: null, provisionProgress: {}, clockChecks: {} });
    },

    applyPkiProgress(event) {
      set({ provisionProgress: { ...get().provisionProgress, [event.deviceId]: event } });
    },
  };
};
