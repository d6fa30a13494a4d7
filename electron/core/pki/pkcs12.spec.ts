import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vault } from '../secrets/vault';
import { openDatabase } from '../store/database';
import { pkcs12ToPem } from './pkcs12';
import { PkiRepo } from './pki-repo';
import { SiteCas } from './site-ca';

// PKCS#12 bundles as the company's PKI exports them, made by the openssl CLI: OpenSSL 3's default (PBES2 AES-256,
// SHA-256 MAC) and the legacy 3DES / SHA-1 MAC form, EC and RSA intermediates with the root in the chain.
const dir = mkdtempSync(join(tmpdir(), 'outpost-p12-spec-'));
const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function intermediate(name: string, keyArgs: string[]): { p12: (extra: string[], password: string) => Buffer; root: string; inter: string } {
  const root = join(dir, `${name}-root`);
  const inter = join(dir, `${name}-inter`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${root}.key`, '-out', `${root}.pem`, '-subj', `/CN=${name} Root`, '-days', '3650']);
  openssl(['req', '-new', '-newkey', ...keyArgs, '-nodes', '-keyout', `${inter}.key`, '-subj', `/CN=${name} Plant CA`, '-out', `${inter}.csr`]);
  writeFileSync(`${inter}.ext`, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl(['x509', '-req', '-in', `${inter}.csr`, '-CA', `${root}.pem`, '-CAkey', `${root}.key`, '-CAcreateserial', '-days', '1000', '-extfile', `${inter}.ext`, '-out', `${inter}.pem`]);
  return {
    root: readFileSync(`${root}.pem`, 'utf8'),
    inter: readFileSync(`${inter}.pem`, 'utf8'),
    p12(extra, password) {
      const out = join(dir, `${name}-${extra.length}.p12`);
      // The root first in the bundle's certificates: the reader orders the chain itself.
      openssl(['pkcs12', '-export', '-inkey', `${inter}.key`, '-in', `${inter}.pem`, '-certfile', `${root}.pem`, '-passout', `pass:${password}`, '-out', out, ...extra]);
      return readFileSync(out);
    },
  };
}

function setup() {
  const db = openDatabase(join(dir, `db-${Math.random().toString(16).slice(2)}.sqlite`));
  return new SiteCas(new PkiRepo(db), (p) => new Vault(db, () => p));
}

describe('PKCS#12 import', () => {
  const ec = intermediate('ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);

  it('reads OpenSSL 3’s default bundle (PBES2/AES-256, SHA-256 MAC): key, CA certificate first, then the root', async () => {
    const { certificatePem, keyPem } = await pkcs12ToPem(ec.p12([], 'p12-secret'), 'p12-secret');
    const blocks = certificatePem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
    expect(blocks).toEqual([ec.inter, ec.root]);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const ca = await setup().importPem({ name: 'plant', certificatePem, keyPem, passphrase: 'vault-pw' });
    expect(ca).toMatchObject({ imported: true, algorithm: 'ec-p256', subject: 'CN=ec Plant CA' });
    expect(ca.chainPem).toBe(ec.root);
  });

  it('reads the legacy form (3DES bags, SHA-1 MAC) Windows and older OpenSSL export', async () => {
    const legacy = ec.p12(['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'], 'old-secret');
    const { certificatePem } = await pkcs12ToPem(legacy, 'old-secret');
    expect(certificatePem.startsWith(ec.inter)).toBe(true);
  });

  it('an RSA intermediate', async () => {
    const rsa = intermediate('rsa', ['rsa:3072']);
    const { certificatePem, keyPem } = await pkcs12ToPem(rsa.p12([], 'x'), 'x');
    const ca = await setup().importPem({ name: 'rsa', certificatePem, keyPem, passphrase: 'vault-pw' });
    expect(ca.algorithm).toBe('rsa-3072');
  });

  it('a wrong password is kind auth; something that is not PKCS#12 is kind invalid-input', async () => {
    await expect(pkcs12ToPem(ec.p12([], 'right'), 'wrong')).rejects.toMatchObject({ kind: 'auth' });
    await expect(pkcs12ToPem(Buffer.from('-----BEGIN CERTIFICATE-----\nnot der\n'), 'x')).rejects.toMatchObject({ kind: 'invalid-input' });
  });
});
