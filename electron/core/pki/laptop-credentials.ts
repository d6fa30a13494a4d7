import type { CertificateRecord } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import type { Vault } from '../secrets/vault';
import type { Device } from '../../../shared/contract';
import type { Db } from '../store/database';
import { PkiRepo, type StoredCa } from './pki-repo';

// Reading the laptop's client credentials needs no X.509 library: the engine registry calls this on every new
// mTLS engine client, and the CLI should not load the signer to run `outpost ps`.

export interface TlsCredentials {
  /** The site CA (and chain): the only roots the engine's certificate is checked against. */
  ca: string;
  cert: string;
  key: string;
}

const DAY = 86_400_000;
export const laptopClientKeySecret = (serial: string) => `pki/laptop-client/${serial}/key`;

export type LaptopProfile = 'docker-client' | 'mqtt-client';

/** The laptop's own client certificate for a CA (docker-client or mqtt-client): the newest valid one with more than a day left. */
export function currentLaptopClient(repo: PkiRepo, caId: string, now = new Date(), profile: LaptopProfile = 'docker-client'): CertificateRecord | undefined {
  return repo
    .certificates({ caId })
    .filter((c) => c.profile === profile && c.deviceId === null && c.status === 'valid' && new Date(c.notAfter).getTime() > now.getTime() + DAY)
    .sort((a, b) => b.issuedAt.localeCompare(a.issuedAt))[0];
}

export async function laptopClientCredentials(repo: PkiRepo, ca: StoredCa, vault: Vault, profile: LaptopProfile = 'docker-client'): Promise<TlsCredentials> {
  const cert = currentLaptopClient(repo, ca.id, new Date(), profile);
  if (!cert && profile === 'mqtt-client') throw new OutpostError('not-found', `no mqtt-client certificate for this laptop from CA ${ca.name}: outpost cert laptop --profile mqtt-client`);
  if (!cert) throw new OutpostError('not-found', `no docker-client certificate for this laptop from CA ${ca.name}: install Docker TLS on a device first (outpost cert issue <device> --profile docker-server --install docker)`);
  let key: string | undefined;
  try {
    key = await vault.get(laptopClientKeySecret(cert.serial));
    // Nothing stored under that name opens nothing: still say a wrong or missing passphrase as such.
    if (key === undefined) await vault.assertReady();
  } catch (err) {
    if (err instanceof OutpostError && err.kind === 'invalid-input') throw new OutpostError('auth', `the laptop's ${profile} key is locked: give the passphrase (--passphrase-file F or OUTPOST_PASSPHRASE)`);
    throw err;
  }
  if (!key) throw new OutpostError('not-found', `the key of the laptop's ${profile} certificate ${cert.serial} is missing from the vault`);
  return { ca: `${ca.certificatePem}${ca.chainPem}`, cert: cert.pem, key };
}


/** The laptop's credentials for a device's engine, pinned to the CA Outpost installed its TLS with. */
export function tlsCredentialsFor(db: Db, vault: Vault, device: Device): Promise<TlsCredentials> {
  const repo = new PkiRepo(db);
  return laptopClientCredentials(repo, repo.ca(device.docker?.caId), vault);
}
