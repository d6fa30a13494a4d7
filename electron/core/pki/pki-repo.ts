import { CaInfo, CertificateRecord, type Installation, type SubjectAltName } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import type { Db } from '../store/database';

interface CaRow {
  id: string;
  name: string;
  subject: string;
  algorithm: string;
  imported: number;
  certificate_pem: string;
  chain_pem: string;
  key_secret: string;
  not_before: string;
  not_after: string;
  crl_number: number;
  created_at: string;
  issued?: number;
}

interface CertRow {
  serial: string;
  ca_id: string;
  profile: string;
  profile_version: number;
  device_id: string | null;
  device_name?: string | null;
  subject: string;
  sans: string;
  not_before: string;
  not_after: string;
  issued_at: string;
  spki_sha256: string;
  key_origin: string;
  status: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  replaces: string | null;
  installed: string;
  pem: string;
}

export interface StoredCa extends CaInfo {
  keySecret: string;
  crlNumber: number;
}

function caFromRow(r: CaRow): StoredCa {
  return {
    ...CaInfo.parse({
      id: r.id,
      name: r.name,
      subject: r.subject,
      algorithm: r.algorithm,
      imported: r.imported === 1,
      notBefore: r.not_before,
      notAfter: r.not_after,
      certificatePem: r.certificate_pem,
      chainPem: r.chain_pem,
      createdAt: r.created_at,
      issued: r.issued ?? 0,
    }),
    keySecret: r.key_secret,
    crlNumber: r.crl_number,
  };
}

function certFromRow(r: CertRow): CertificateRecord {
  return CertificateRecord.parse({
    serial: r.serial,
    caId: r.ca_id,
    profile: r.profile,
    deviceId: r.device_id,
    deviceName: r.device_name ?? null,
    subject: r.subject,
    sans: JSON.parse(r.sans),
    notBefore: r.not_before,
    notAfter: r.not_after,
    issuedAt: r.issued_at,
    spkiSha256: r.spki_sha256,
    keyOrigin: r.key_origin,
    status: r.status,
    revokedAt: r.revoked_at,
    revokeReason: r.revoke_reason,
    replaces: r.replaces,
    installed: JSON.parse(r.installed),
    pem: r.pem,
  });
}

/** A CA as it crosses the boundary: never the vault secret's name or the CRL counter. */
export function publicInfo(ca: StoredCa): CaInfo {
  const { keySecret: _k, crlNumber: _n, ...info } = ca;
  return info;
}

const CERT_SELECT = 'SELECT c.*, d.name AS device_name FROM pki_certificates c LEFT JOIN devices d ON d.id = c.device_id';

/** The site CAs and every certificate they issued (cfssl's certdb record, plus profile, device, key origin, where installed). */
export class PkiRepo {
  constructor(private readonly db: Db) {}

  listCas(): StoredCa[] {
    const rows = this.db.prepare('SELECT a.*, (SELECT COUNT(*) FROM pki_certificates c WHERE c.ca_id = a.id) AS issued FROM pki_cas a ORDER BY created_at').all() as CaRow[];
    return rows.map(caFromRow);
  }

  findCa(ref: string): StoredCa | undefined {
    return this.listCas().find((c) => c.id === ref || c.name === ref);
  }

  /** The CA named, else the only one; several CAs and none named is a question for the technician. */
  ca(ref?: string): StoredCa {
    if (ref) {
      const ca = this.findCa(ref);
      if (!ca) throw new OutpostError('not-found', `no CA named ${JSON.stringify(ref)}`);
      return ca;
    }
    const all = this.listCas();
    if (all.length === 0) throw new OutpostError('not-found', 'no site CA yet: create one (outpost ca init) or import one (outpost ca import)');
    if (all.length > 1) throw new OutpostError('invalid-input', `several CAs (${all.map((c) => c.name).join(', ')}): say which one (--ca)`);
    return all[0] as StoredCa;
  }

  insertCa(ca: Omit<StoredCa, 'issued' | 'crlNumber'>): void {
    if (this.findCa(ca.name)) throw new OutpostError('conflict', `a CA named ${JSON.stringify(ca.name)} already exists`);
    this.db
      .prepare(
        `INSERT INTO pki_cas (id, name, subject, algorithm, imported, certificate_pem, chain_pem, key_secret, not_before, not_after, created_at)
         VALUES (@id, @name, @subject, @algorithm, @imported, @certificatePem, @chainPem, @keySecret, @notBefore, @notAfter, @createdAt)`,
      )
      .run({ ...ca, imported: ca.imported ? 1 : 0 });
  }

  nextCrlNumber(caId: string): number {
    this.db.prepare('UPDATE pki_cas SET crl_number = crl_number + 1 WHERE id = ?').run(caId);
    return (this.db.prepare('SELECT crl_number FROM pki_cas WHERE id = ?').get(caId) as { crl_number: number }).crl_number;
  }

  insertCertificate(c: Omit<CertificateRecord, 'deviceName'> & { profileVersion: number }): void {
    this.db
      .prepare(
        `INSERT INTO pki_certificates (serial, ca_id, profile, profile_version, device_id, subject, sans, not_before, not_after, issued_at, spki_sha256, key_origin, status, revoked_at, revoke_reason, replaces, installed, pem)
         VALUES (@serial, @caId, @profile, @profileVersion, @deviceId, @subject, @sans, @notBefore, @notAfter, @issuedAt, @spkiSha256, @keyOrigin, @status, @revokedAt, @revokeReason, @replaces, @installed, @pem)`,
      )
      .run({ ...c, sans: JSON.stringify(c.sans satisfies SubjectAltName[]), installed: JSON.stringify(c.installed) });
  }

  certificates(filter: { deviceId?: string; caId?: string } = {}): CertificateRecord[] {
    const where: string[] = [];
    if (filter.deviceId) where.push('c.device_id = @deviceId');
    if (filter.caId) where.push('c.ca_id = @caId');
    const rows = this.db.prepare(`${CERT_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.not_after`).all(filter) as CertRow[];
    return rows.map(certFromRow);
  }

  certificate(serial: string): CertificateRecord {
    const s = serial.toLowerCase().replace(/:/g, '');
    const row = this.db.prepare(`${CERT_SELECT} WHERE c.serial = ? OR c.serial LIKE ?`).all(s, `${s}%`) as CertRow[];
    if (row.length === 0) throw new OutpostError('not-found', `no certificate with serial ${serial}`);
    if (row.length > 1) throw new OutpostError('invalid-input', `serial prefix ${serial} matches ${row.length} certificates; give more digits`);
    return certFromRow(row[0] as CertRow);
  }

  /** Where a certificate went; `options` (a files target's paths, the MQTT listener) lets renew and revoke find it again. */
  recordInstall(serial: string, target: string, paths: string[], at = new Date(), options: Pick<Installation, 'files' | 'mqtt'> = {}): void {
    const current = this.certificate(serial).installed.filter((i) => i.target !== target);
    this.db.prepare('UPDATE pki_certificates SET installed = ? WHERE serial = ?').run(JSON.stringify([...current, { target, paths, at: at.toISOString(), ...options }]), serial);
  }

  revoke(serial: string, reason: string, at = new Date()): void {
    this.db.prepare("UPDATE pki_certificates SET status = 'revoked', revoked_at = ?, revoke_reason = ? WHERE serial = ? AND status = 'valid'").run(at.toISOString(), reason, serial);
  }

  /** Revoked certificates not yet expired: what the CRL lists. */
  revokedUnexpired(caId: string, now = new Date()): CertificateRecord[] {
    return this.certificates({ caId }).filter((c) => c.status === 'revoked' && new Date(c.notAfter) > now);
  }
}
