import type { Migration } from '../store/migrations';

/** PKI owns migrations 40-49. The CA's private key is never in these tables: it is sealed in `secrets`. */
export const pkiMigrations: Migration[] = [
  {
    version: 40,
    name: 'pki: site CAs and the certificate inventory',
    up: `
      CREATE TABLE pki_cas (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        subject TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        imported INTEGER NOT NULL DEFAULT 0,
        certificate_pem TEXT NOT NULL,
        chain_pem TEXT NOT NULL DEFAULT '',
        key_secret TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        crl_number INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      );
      CREATE TABLE pki_certificates (
        serial TEXT PRIMARY KEY,
        ca_id TEXT NOT NULL REFERENCES pki_cas(id),
        profile TEXT NOT NULL,
        profile_version INTEGER NOT NULL,
        device_id TEXT,
        subject TEXT NOT NULL,
        sans TEXT NOT NULL DEFAULT '[]',
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        spki_sha256 TEXT NOT NULL,
        key_origin TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'valid',
        revoked_at TEXT,
        revoke_reason TEXT,
        replaces TEXT,
        installed TEXT NOT NULL DEFAULT '[]',
        pem TEXT NOT NULL
      );
      CREATE INDEX pki_certificates_device ON pki_certificates(device_id, profile);
      CREATE INDEX pki_certificates_expiry ON pki_certificates(not_after);
    `,
  },
];
