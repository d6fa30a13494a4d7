import { Alert, Badge, Button, Checkbox, Group, Menu, Modal, PasswordInput, Stack, Text, Tooltip, UnstyledButton } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import type { VaultStatus } from '../../../shared/contract';
import { useOutpost } from '../store/context';

function vaultLabel(v: VaultStatus | null): { text: string; color: string; tip: string } {
  if (!v) return { text: 'vault …', color: 'gray', tip: 'Reading the vault status' };
  if (v.unlocked) {
    const how = v.source === 'keychain' ? 'by the OS keychain' : v.source === 'environment' ? 'by OUTPOST_PASSPHRASE' : 'for this session';
    return { text: 'vault unlocked', color: 'teal', tip: `Unlocked ${how}. The laptop's SSH key and stored passwords can be used.` };
  }
  if (!v.initialized) return { text: 'vault: set a passphrase', color: 'orange', tip: 'Choose the passphrase that encrypts the laptop SSH key and stored passwords' };
  return { text: 'vault locked', color: 'orange', tip: `Unlock to use the laptop's SSH key${v.agent ? ' (your ssh-agent is used meanwhile)' : ''}` };
}

/** The status bar's vault badge: opens the unlock dialog, or offers to lock again. */
export function VaultBadge() {
  const vault = useOutpost((s) => s.vault);
  const open = useOutpost((s) => s.openUnlockDialog);
  const lock = useOutpost((s) => s.lockVault);
  const { text, color, tip } = vaultLabel(vault);
  const badge = (
    <Badge size="sm" variant="light" color={color} data-testid="vault-status" data-unlocked={String(Boolean(vault?.unlocked))} style={{ cursor: 'pointer' }}>
      {text}
    </Badge>
  );
  if (!vault?.unlocked) {
    return (
      <Tooltip label={tip}>
        <UnstyledButton onClick={() => open(true)} aria-label="Unlock the vault" data-testid="vault-unlock-open">
          {badge}
        </UnstyledButton>
      </Tooltip>
    );
  }
  return (
    <Menu position="top-start" withinPortal>
      <Menu.Target>
        <UnstyledButton aria-label="Vault" data-testid="vault-menu">
          <Tooltip label={tip}>{badge}</Tooltip>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item onClick={() => void lock(false)} data-testid="vault-lock">
          Lock now
        </Menu.Item>
        {vault.remembered && (
          <Menu.Item color="red" onClick={() => void lock(true)} data-testid="vault-forget">
            Lock and forget the keychain copy
          </Menu.Item>
        )}
      </Menu.Dropdown>
    </Menu>
  );
}

/**
 * Unlocks the vault for this session. The passphrase lives in this dialog's state until it is sent, then is
 * cleared; the core keeps it in memory only. On a vault with no passphrase yet, it is chosen here (typed twice).
 */
export function UnlockDialog() {
  const opened = useOutpost((s) => s.unlockDialogOpen);
  const vault = useOutpost((s) => s.vault);
  const setOpen = useOutpost((s) => s.openUnlockDialog);
  const unlock = useOutpost((s) => s.unlockVault);
  const [passphrase, setPassphrase] = useState('');
  const [again, setAgain] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const choosing = vault !== null && !vault.initialized;

  function close() {
    setPassphrase('');
    setAgain('');
    setError(null);
    setOpen(false);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (choosing && passphrase !== again) {
      setError('The two passphrases differ.');
      return;
    }
    setBusy(true);
    const failed = await unlock(passphrase, remember);
    setBusy(false);
    setPassphrase('');
    setAgain('');
    setError(failed);
    if (!failed) setRemember(false);
  }

  return (
    <Modal opened={opened} onClose={close} title={choosing ? 'Choose the vault passphrase' : 'Unlock the vault'} data-testid="vault-dialog">
      <form onSubmit={(e) => void submit(e)}>
        <Stack gap="sm">
          <Text size="sm">
            {choosing
              ? "The vault encrypts this laptop's SSH key (root on every device it was installed on) and the passwords you ask Outpost to remember. Nobody can recover a lost passphrase."
              : 'The passphrase stays in memory until you lock the vault or quit; it is never written to disk.'}
          </Text>
          {vault?.laptopKey === 'plaintext' && (
            <Alert color="yellow" variant="light" data-testid="vault-plaintext-key">
              The laptop key is still a plain file from an earlier version; unlocking encrypts it.
            </Alert>
          )}
          <PasswordInput label="Passphrase" value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)} autoFocus data-testid="vault-passphrase" />
          {choosing && <PasswordInput label="Again" value={again} onChange={(e) => setAgain(e.currentTarget.value)} data-testid="vault-passphrase-again" />}
          {vault?.keychainAvailable && (
            <Checkbox label="Remember on this laptop (encrypted by the OS keychain)" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} data-testid="vault-remember" />
          )}
          {error && (
            <Text size="sm" c="red" role="alert" data-testid="vault-error">
              {error}
            </Text>
          )}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={!passphrase || (choosing && !again)} data-testid="vault-unlock">
              {choosing ? 'Set and unlock' : 'Unlock'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
