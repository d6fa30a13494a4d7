import { Button, Group, NumberInput, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { effectiveLink, siteDefaultsFor, type Device, type DeviceUpdate } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { formatTags, parseTags } from './device-filters';

/** Name, tags, notes and how to log in (user, port, key): the technician's own settings for a device, kept across scans. */
export function DeviceEditForm({ device }: { device: Device }) {
  const updateDevice = useOutpost((s) => s.updateDevice);
  const [name, setName] = useState(device.name);
  const [tags, setTags] = useState(formatTags(device.tags));
  const [notes, setNotes] = useState(device.notes);
  const site = siteDefaultsFor(useOutpost((s) => s.linkDefaults), device);
  // Only the device's own values fill the fields; an empty field shows what it inherits (site default, built-in).
  const [sshUser, setSshUser] = useState(device.ssh.user ?? '');
  const [sshPort, setSshPort] = useState<number | string>(device.ssh.port ?? '');
  const inherited = effectiveLink({ ssh: {} }, {}, site);
  const [sshKey, setSshKey] = useState(device.ssh.identityFile ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseTags(tags);
    if ('error' in parsed) return setError(parsed.error);
    setError(null);
    const input: DeviceUpdate = {
      id: device.id,
      name: name.trim(),
      tags: parsed.tags,
      notes,
      sshUser: sshUser.trim() || null,
      sshPort: typeof sshPort === 'number' ? sshPort : null,
      sshIdentityFile: sshKey.trim() || null,
    };
    setBusy(true);
    await updateDevice(input);
    setBusy(false);
  }

  return (
    <form onSubmit={(e) => void save(e)} data-testid="device-edit-form">
      <Stack gap="xs">
        <Group gap="sm" grow>
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} required data-testid="device-edit-name" />
          <TextInput label="Tags" placeholder="site=north, role=gateway" value={tags} onChange={(e) => setTags(e.currentTarget.value)} data-testid="device-edit-tags" error={error} />
        </Group>
        <Group gap="sm" grow>
          <TextInput label="SSH user" placeholder={`${inherited.user} (${inherited.from.user})`} value={sshUser} onChange={(e) => setSshUser(e.currentTarget.value)} data-testid="device-edit-user" />
          <NumberInput label="SSH port" placeholder={`${inherited.port} (${inherited.from.port})`} value={sshPort} min={1} max={65535} onChange={setSshPort} data-testid="device-edit-port" />
        </Group>
        <TextInput
          label="SSH key file on this laptop"
          description="Used for this device by every view and command. Empty fields use the site defaults (Settings), else root, 22 and the laptop's own key."
          placeholder={inherited.identityFile ? `${inherited.identityFile} (site default)` : '/home/tech/.ssh/site_ed25519'}
          value={sshKey}
          onChange={(e) => setSshKey(e.currentTarget.value)}
          data-testid="device-edit-identity"
        />
        <Textarea label="Notes" autosize minRows={2} maxRows={6} value={notes} onChange={(e) => setNotes(e.currentTarget.value)} data-testid="device-edit-notes" />
        <Group justify="space-between">
          <Text size="xs" c="dimmed">
            Kept when a later scan sees the device again.
          </Text>
          <Button type="submit" size="xs" loading={busy} data-testid="device-edit-save">
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
