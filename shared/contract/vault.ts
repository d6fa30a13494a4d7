import { z } from 'zod';
import { channel } from './define';

export const VaultStatus = z.object({
  /** A passphrase has been chosen; when false, the first unlock sets it. */
  initialized: z.boolean(),
  unlocked: z.boolean(),
  /** Where the passphrase in use came from: this session's unlock, OUTPOST_PASSPHRASE / a file, or the OS keychain. */
  source: z.enum(['session', 'environment', 'keychain']).nullable(),
  /** The OS keychain (Electron safeStorage) can remember the passphrase on this laptop. */
  keychainAvailable: z.boolean(),
  remembered: z.boolean(),
  /** How the laptop's own SSH key is kept: in the vault, still a plain file (encrypted at the next unlock), or not made yet. */
  laptopKey: z.enum(['encrypted', 'plaintext', 'none']),
  /** The technician's ssh-agent (SSH_AUTH_SOCK) is offered to devices too. */
  agent: z.boolean(),
});
export type VaultStatus = z.output<typeof VaultStatus>;

export const vaultChannels = {
  'vault:status': channel(z.object({}).strict().default({}), VaultStatus),
  /** A wrong passphrase fails at once with kind `auth`; the passphrase stays in memory for this session only. */
  'vault:unlock': channel(z.object({ passphrase: z.string().min(1).max(1024), remember: z.boolean().default(false) }).strict(), VaultStatus),
  /** `forget` also drops the copy the OS keychain remembers. */
  'vault:lock': channel(z.object({ forget: z.boolean().default(false) }).strict().default({ forget: false }), VaultStatus),
};

export const vaultEvents = {
  'vault:changed': VaultStatus,
};
