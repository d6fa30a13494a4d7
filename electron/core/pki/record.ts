import type { CertificateRecord, SubjectAltName } from '../../../shared/contract/pki';
import type { x509 } from './crypto';
import type { Profile } from './profiles';

/** What the inventory stores for a newly signed certificate (the row `PkiRepo.insertCertificate` takes). */
export type NewCertificate = Omit<CertificateRecord, 'deviceName'> & { profileVersion: number };

/**
 * The one place a signed certificate becomes an inventory record: the CSR signer, the device issuer and the
 * laptop's own client certificate all build it here, so a new column is added once.
 */
export function certificateRecord(
  certificate: x509.X509Certificate,
  fields: {
    caId: string;
    profile: Pick<Profile, 'name' | 'version'>;
    spki: string;
    deviceId: string | null;
    sans: SubjectAltName[];
    keyOrigin: CertificateRecord['keyOrigin'];
    replaces?: string | null;
    installed?: Array<{ target: string; paths: string[] }>;
    now?: Date;
    /** The PEM the signer made (else encoded from the certificate). */
    pem?: string;
  },
): NewCertificate {
  const at = (fields.now ?? new Date()).toISOString();
  const installed: CertificateRecord['installed'] = (fields.installed ?? []).map((i) => ({ ...i, at }));
  return {
    serial: certificate.serialNumber,
    caId: fields.caId,
    profile: fields.profile.name,
    profileVersion: fields.profile.version,
    deviceId: fields.deviceId,
    subject: certificate.subject,
    sans: fields.sans,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    issuedAt: at,
    spkiSha256: fields.spki,
    keyOrigin: fields.keyOrigin,
    status: 'valid',
    revokedAt: null,
    revokeReason: null,
    replaces: fields.replaces ?? null,
    installed,
    pem: `${fields.pem ?? certificate.toString('pem')}\n`,
  };
}
