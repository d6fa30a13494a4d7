import { Checkbox, Group, NumberInput, Paper, Text, TextInput } from '@mantine/core';
import { useOutpost } from '../../store/context';

/** How the laptop logs in to the devices for buffer work; empty fields use each device's own settings. */
export function SshOptions() {
  const ssh = useOutpost((s) => s.bufferSsh);
  const setSsh = useOutpost((s) => s.setBufferSsh);
  return (
    <Paper withBorder radius="md" p="sm" data-testid="buffers-ssh">
      <Group gap="sm" align="flex-end" wrap="wrap">
        <TextInput label="SSH user" placeholder="device default" value={ssh.user ?? ''} onChange={(e) => setSsh({ ...ssh, user: e.currentTarget.value || undefined })} w={150} data-testid="ssh-user" />
        <NumberInput
          label="Port"
          placeholder="default"
          value={ssh.port ?? ''}
          min={1}
          max={65535}
          onChange={(v) => setSsh({ ...ssh, port: typeof v === 'number' ? v : undefined })}
          w={100}
          data-testid="ssh-port"
        />
        <TextInput
          label="Identity file"
          placeholder="the laptop key"
          value={ssh.identityFile ?? ''}
          onChange={(e) => setSsh({ ...ssh, identityFile: e.currentTarget.value || undefined })}
          w={320}
          data-testid="ssh-identity"
        />
        <Checkbox
          label="Accept a device's first host key"
          checked={ssh.acceptNew ?? false}
          onChange={(e) => setSsh({ ...ssh, acceptNew: e.currentTarget.checked || undefined })}
          mb={8}
          data-testid="ssh-accept-new"
        />
      </Group>
      <Text size="xs" c="dimmed" mt={6}>
        A changed host key is always refused; pin keys from the device's page in Devices.
      </Text>
    </Paper>
  );
}
