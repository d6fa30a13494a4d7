import type { VaultStatus } from '../../../shared/contract';
import type { EventBus, Router } from '../router';
import type { LaptopKeyStore } from '../transport/laptop-key';
import type { Vault } from './vault';

/** `vault:status|unlock|lock`: the UI's unlock dialog; the CLI unlocks through OUTPOST_PASSPHRASE / --passphrase-file. */
export function registerVaultService(router: Router, bus: EventBus, vault: Vault, laptopKey: LaptopKeyStore, env: NodeJS.ProcessEnv = process.env): void {
  const status = async (): Promise<VaultStatus> => {
    const lock = await vault.status();
    // An open vault and a key still in plain text: this is the first unlock since, so encrypt it now.
    if (lock.unlocked) await laptopKey.settle();
    return { ...lock, laptopKey: laptopKey.state(), agent: Boolean(env.SSH_AUTH_SOCK) };
  };
  router.handle('vault:status', () => status());
  router.handle('vault:unlock', async ({ passphrase, remember }) => {
    await vault.unlock(passphrase, { remember });
    const now = await status();
    bus.emit('vault:changed', now);
    return now;
  });
  router.handle('vault:lock', async ({ forget }) => {
    await vault.lock({ forget });
    const now = await status();
    bus.emit('vault:changed', now);
    return now;
  });
}
