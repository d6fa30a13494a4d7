import { Button, Code, Group, Modal, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { Device } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import type { PinnedKey } from '../../store/discovery-slice';

/**
 * Forgets the device's pinned host key (at every address it is known by), so the next connection asks again as on
 * first contact: for a device re-imaged or replaced on purpose, or an address now used by another box.
 */
export function ForgetHostKeyButton({ device, pinned }: { device: Device; pinned: PinnedKey }) {
  const forget = useOutpost((s) => s.forgetHostKey);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);

  async function run() {
    setBusy(true);
    const ok = await forget(device, pinned.port);
    setBusy(false);
    if (ok) setOpen(false);
  }

  return (
    <>
      <Button size="xs" variant="subtle" color="red" onClick={() => setOpen(true)} data-testid="forget-key-open">
        Forget pinned key…
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Forget ${device.name}'s pinned host key?`} data-testid="forget-key-dialog">
        <Stack gap="sm">
          <Text size="sm">This laptop will stop recognising the key it pinned for {device.name}:</Text>
          <Code block>{pinned.fingerprint}</Code>
          <Text size="sm">
            The next connection is refused until you trust a key again (<i>Trust host key…</i>, comparing its fingerprint with the device&apos;s console). Use it for a
            device re-imaged or replaced on purpose; a key that changed unexpectedly is better checked than forgotten.
          </Text>
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button color="red" loading={busy} onClick={() => void run()} data-testid="forget-key-confirm">
              Forget the key
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
