import type { VaultStatus } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface VaultSlice {
  vault: VaultStatus | null;
  unlockDialogOpen: boolean;
  loadVault(): Promise<void>;
  setVault(status: VaultStatus): void;
  openUnlockDialog(open: boolean): void;
  /**
   * Unlocks for this session. The passphrase is handed to the core and never kept in the store. Resolves with an
   * error message for the dialog to show (a wrong passphrase: the core's `auth`), or null on success.
   */
  unlockVault(passphrase: string, remember: boolean): Promise<string | null>;
  lockVault(forget: boolean): Promise<void>;
}

/** A failure that an unlocked vault would have avoided: the laptop key or a stored password was locked away. */
export function needsUnlock(err: unknown): boolean {
  const message = err && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  return typeof message === 'string' && /vault (is locked|passphrase)|locked in the vault|needs the vault/.test(message);
}

export const createVaultSlice: SliceCreator<VaultSlice> = (set, get, { api }) => ({
  vault: null,
  unlockDialogOpen: false,
  async loadVault() {
    try {
      set({ vault: await api.invoke('vault:status', {}) });
    } catch {
      // The badge stays "vault …"; the unlock dialog and every call that needs the vault still say what is wrong.
      set({ vault: null });
    }
  },
  setVault(status) {
    set({ vault: status });
  },
  openUnlockDialog(open) {
    set({ unlockDialogOpen: open });
  },
  async unlockVault(passphrase, remember) {
    try {
      const status = await api.invoke('vault:unlock', { passphrase, remember });
      set({ vault: status, unlockDialogOpen: false });
      get().notify({ tone: 'success', title: 'Vault unlocked', message: remember ? 'Unlocked; the OS keychain will unlock it next time.' : 'Unlocked for this session.' });
      return null;
    } catch (err) {
      const kind = err && typeof err === 'object' ? (err as { kind?: unknown }).kind : undefined;
      if (kind === 'auth') return 'Wrong passphrase. Nothing was unlocked.';
      return err instanceof Error ? err.message : String(err);
    }
  },
  async lockVault(forget) {
    try {
      set({ vault: await api.invoke('vault:lock', { forget }) });
    } catch (err) {
      get().reportError(err, 'Could not lock the vault');
    }
  },
});
