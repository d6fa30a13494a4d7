import { Alert, Button, Code, Group, List, Modal, Stack, Text, TextInput, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { Device, ResultOf } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';

/** The shared-host-key warning in the drawer, with the fix a technician wants: new host keys for this device. */
export function SharedHostKeyAlert({ device }: { device: Device }) {
  const devices = useOutpost((s) => s.devices);
  const others = (device.ssh.sharedHostKeyWith ?? []).map((id) => devices.find((d) => d.id === id)?.name ?? id);
  if (!others.length) return null;
  return (
    <Alert color="orange" variant="light" title="Shared host key" data-testid="shared-host-key-alert">
      <Text size="sm">
        {device.name} has the same SSH host key as <b>{others.join(', ')}</b> — typical of gateways flashed from one golden image. The key cannot tell these
        devices apart, so a flush or deploy could reach the wrong one. Give each its own keys with <i>Regenerate host keys</i>.
      </Text>
    </Alert>
  );
}

/**
 * Regenerates the device's host keys over its pinned connection and pins the new key in the same step (the new key is
 * read over the authenticated old link before sshd restarts, and must be the one offered afterwards).
 */
export function RegenerateHostKeysButton({ device, disabled }: { device: Device; disabled: boolean }) {
  const regenerate = useOutpost((s) => s.regenerateHostKeys);
  const [open, setOpen] = useState(false);
  const [identityFile, setIdentityFile] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ResultOf<'trust:regenerate'> | null>(null);
  const shared = Boolean(device.ssh.sharedHostKeyWith?.length);

  async function run() {
    setBusy(true);
    const r = await regenerate(device, identityFile.trim() ? { identityFile: identityFile.trim() } : {});
    setBusy(false);
    if (r) setResult(r);
  }

  function close() {
    setOpen(false);
    setResult(null);
  }

  return (
    <>
      <Tooltip label={disabled ? 'Pin (or re-pin) the host key first: new keys are made over a trusted connection' : 'Make new SSH host keys on the device and pin the new key'}>
        <Button size="xs" variant={shared ? 'filled' : 'light'} color={shared ? 'orange' : undefined} disabled={disabled && !open} onClick={() => setOpen(true)} data-testid="regenerate-open">
          Regenerate host keys…
        </Button>
      </Tooltip>
      <Modal opened={open} onClose={close} title={`New SSH host keys for ${device.name}`} size="lg" data-testid="regenerate-dialog">
        {result ? (
          <Stack gap="sm" data-testid="regenerate-result">
            <Text size="sm">
              New keys made and sshd restarted ({result.restartedVia}). The new key is pinned:
            </Text>
            <Code block data-testid="regenerate-new">
              {result.fingerprint}
            </Code>
            <Text size="xs" c="dimmed">
              was {result.previous}
            </Text>
            <Group justify="flex-end">
              <Button onClick={close}>Done</Button>
            </Group>
          </Stack>
        ) : (
          <Stack gap="sm">
            <Text size="sm">Over the connection already pinned to this device, Outpost will:</Text>
            <List size="sm" spacing={2}>
              <List.Item>move the device&apos;s host keys aside and make new ones (<Code>ssh-keygen -A</Code>), checked with <Code>sshd -t</Code>;</List.Item>
              <List.Item>restart sshd through its service manager (systemd, OpenRC, service or its init script);</List.Item>
              <List.Item>reconnect, accepting only the new key it read over the old connection, and pin it.</List.Item>
            </List>
            <Text size="sm" c="dimmed">
              If anything fails before the restart, the old keys are put back. Other laptops that pinned this device must re-pin it.
            </Text>
            <TextInput label="Identity file (optional; the laptop key and ssh-agent are tried too)" placeholder="~/.ssh/id_ed25519" value={identityFile} onChange={(e) => setIdentityFile(e.currentTarget.value)} data-testid="regenerate-identity" />
            <Group justify="flex-end" gap="xs">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button color="orange" loading={busy} onClick={() => void run()} data-testid="regenerate-run">
                Regenerate and pin
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
