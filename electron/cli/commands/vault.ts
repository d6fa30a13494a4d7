import type { Command } from 'commander';
import type { VaultStatus } from '../../../shared/contract';
import { leaf, runWith, type CliIo } from '../context';

function describe(s: VaultStatus): string {
  const lock = s.unlocked ? `unlocked (${s.source === 'environment' ? 'OUTPOST_PASSPHRASE / --passphrase-file' : s.source})` : s.initialized ? 'locked' : 'no passphrase chosen yet';
  const key = { encrypted: 'encrypted in the vault', plaintext: 'a plain file (encrypted at the next unlock)', none: 'not made yet' }[s.laptopKey];
  return [`vault: ${lock}`, `laptop SSH key: ${key}`, `ssh-agent: ${s.agent ? 'in use (SSH_AUTH_SOCK)' : 'none'}`].join('\n');
}

/** `outpost vault status`: the CLI unlocks with OUTPOST_PASSPHRASE or --passphrase-file; a wrong one fails with kind auth. */
export function registerVault(program: Command, io: CliIo): void {
  const vault = program.command('vault').description('the encrypted vault (device passwords, the laptop SSH key)');
  leaf(vault, 'status', 'is the vault unlocked, and how is the laptop key kept').action(
    runWith(io, async ({ api }) => {
      const s = await api.invoke('vault:status', {});
      return { data: s, human: describe(s) };
    }),
  );
}
