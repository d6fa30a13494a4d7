import { Button, Popover, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useOutpost } from '../../store/context';

/** The SSH user and key file every workloads call uses to reach devices (the laptop key is always tried too). */
export function LinkSettings() {
  const link = useOutpost((s) => s.workloadsLink);
  const setLink = useOutpost((s) => s.setWorkloadsLink);
  const [open, setOpen] = useState(false);
  const [user, setUser] = useState(link.user ?? '');
  const [identityFile, setIdentityFile] = useState(link.identityFile ?? '');
  const summary = [link.user ? `user ${link.user}` : 'inventory user', link.identityFile ? `key ${link.identityFile.split('/').pop()}` : 'laptop key'].join(' · ');

  return (
    <Popover opened={open} onChange={setOpen} position="bottom-end" width={360} withArrow shadow="md">
      <Popover.Target>
        <Button variant="default" size="xs" onClick={() => setOpen((o) => !o)} data-testid="workloads-link-open">
          Connection: {summary}
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setLink({ user: user.trim() || undefined, identityFile: identityFile.trim() || undefined });
            setOpen(false);
          }}
        >
          <Stack gap="xs">
            <Text size="xs" c="dimmed">
              How this laptop logs in to devices for container work. Empty fields use the inventory&apos;s user and the laptop&apos;s own key.
            </Text>
            <TextInput label="SSH user" placeholder="from the inventory" value={user} onChange={(e) => setUser(e.currentTarget.value)} data-testid="workloads-link-user" />
            <TextInput
              label="Private key file"
              placeholder="/home/tech/.ssh/site_ed25519"
              value={identityFile}
              onChange={(e) => setIdentityFile(e.currentTarget.value)}
              data-testid="workloads-link-identity"
            />
            <Button type="submit" size="xs" data-testid="workloads-link-save">
              Use for all devices
            </Button>
          </Stack>
        </form>
      </Popover.Dropdown>
    </Popover>
  );
}
