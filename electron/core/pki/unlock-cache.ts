import type { Vault } from '../secrets/vault';
import { ensureLaptopClient, laptopClientCredentials } from './laptop-client';
import type { LaptopProfile, TlsCredentials } from './laptop-credentials';
import type { PkiRepo, StoredCa } from './pki-repo';
import type { SigningCa } from './signer';
import type { SiteCas } from './site-ca';

/**
 * What one operation opens from the vault, opened once: the CA key and the laptop's client credentials. Every vault
 * read costs an scrypt derivation (~50 ms of CPU, on the thread pool); a bulk issue to ten devices would pay it ~40 times,
 * and ten devices making the laptop's first client certificate at once would make ten of them.
 */
export class UnlockCache {
  private readonly signing = new Map<string, Promise<SigningCa>>();
  private readonly creds = new Map<string, Promise<TlsCredentials>>();

  constructor(
    private readonly deps: { cas: SiteCas; repo: PkiRepo; vault: (passphrase?: string) => Vault },
    private readonly passphrase?: string,
  ) {}

  unlock(ca: StoredCa): Promise<SigningCa> {
    let p = this.signing.get(ca.id);
    if (!p) {
      p = this.deps.cas.unlock(ca, this.passphrase);
      this.signing.set(ca.id, p);
    }
    return p;
  }

  /** The laptop's client certificate of this profile from the CA (made on first need) and its key. */
  laptopCredentials(ca: StoredCa, profile: LaptopProfile): Promise<TlsCredentials> {
    const key = `${ca.id}|${profile}`;
    let p = this.creds.get(key);
    if (!p) {
      p = (async () => {
        const vault = this.deps.vault(this.passphrase);
        await ensureLaptopClient(this.deps.repo, ca, await this.unlock(ca), vault, new Date(), profile);
        return laptopClientCredentials(this.deps.repo, ca, vault, profile);
      })();
      this.creds.set(key, p);
    }
    return p;
  }
}
