import { Button, Group, Paper, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { PlusIcon } from '../../components/icons';
import { useOutpost } from '../../store/context';
import { toDeviceAdd } from './device-format';

export function AddDeviceForm({ onDone }: { onDone: () => void }) {
  const addDevice = useOutpost((s) => s.addDevice);
  const [name, setName] = useState('');
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    const device = await addDevice(toDeviceAdd(name, target));
    setBusy(false);
    if (device) {
      setName('');
      setTarget('');
      onDone();
    }
  }

  return (
    <Paper withBorder p="md" radius="md" data-testid="add-device-form">
      <form onSubmit={(e) => void submit(e)}>
        <Group align="flex-end" gap="sm" wrap="wrap">
          <TextInput
            label="Name"
            placeholder="pump-gateway (optional)"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            w={220}
            data-testid="add-device-name"
          />
          <TextInput
            label="Host, IP or serial port"
            placeholder="10.0.4.17, gw.local or /dev/ttyUSB0"
            value={target}
            onChange={(e) => setTarget(e.currentTarget.value)}
            required
            w={300}
            data-testid="add-device-target"
          />
          <Button type="submit" loading={busy} leftSection={<PlusIcon size={16} />} data-testid="add-device-submit">
            Add
          </Button>
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
        </Group>
        <Text size="xs" c="dimmed" mt="xs">
          A path like /dev/ttyUSB0 or COM3 adds a serial console; anything else is reached over the network.
        </Text>
      </form>
    </Paper>
  );
}
