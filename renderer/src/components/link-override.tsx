import { Badge, Button, Checkbox, Group, NumberInput, Popover, Stack, Table, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { cleanLinkOptions, effectiveLink, siteDefaultsFor, type Device, type LinkOptions } from '../../../shared/contract';
import { useOutpost } from '../store/context';

const baseName = (path: string) => path.split('/').pop() ?? path;

/** One line for the button: what the override changes, or that each device's own settings apply. */
export function overrideSummary(link: LinkOptions): string {
  const parts = [
    link.user && `user ${link.user}`,
    link.port && `port ${link.port}`,
    link.identityFile && `key ${baseName(link.identityFile)}`,
    link.acceptNewHostKey && 'accepts a first host key',
    link.expectedFingerprint && 'expects a fingerprint',
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'each device’s own settings';
}

/**
 * How this laptop will reach the devices a view is about to contact, and the technician's override for this
 * session's runs: one component for every view (Buffers, Workloads). Each device's own user, port and key are set
 * once in its drawer in Devices; what is left empty here comes from there.
 */
export function LinkOverride({ devices }: { devices: Device[] }) {
  const link = useOutpost((s) => s.linkOverride);
  const setLink = useOutpost((s) => s.setLinkOverride);
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<LinkOptions>(link);
  const overridden = Object.keys(link).length > 0;

  const openPopover = () => {
    setDraft(link);
    setOpen((o) => !o);
  };

  return (
    <Popover opened={open} onChange={setOpen} position="bottom-end" width={520} withArrow shadow="md" trapFocus>
      <Popover.Target>
        <Button variant={overridden ? 'light' : 'default'} color={overridden ? 'orange' : undefined} size="xs" onClick={openPopover} data-testid="link-override-open">
          Connection: {overrideSummary(link)}
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setLink(cleanLinkOptions(draft));
            setOpen(false);
          }}
        >
          <Stack gap="xs">
            <Text size="xs" c="dimmed">
              Overrides, for the runs you start from here, what each device keeps in Devices (its user, port and key). Empty fields use the device&apos;s own; the
              laptop key is always tried too.
            </Text>
            <Group gap="xs" grow>
              <TextInput label="SSH user" placeholder="device's own" value={draft.user ?? ''} onChange={(e) => setDraft({ ...draft, user: e.currentTarget.value })} data-testid="link-user" />
              <NumberInput
                label="Port"
                placeholder="device's own"
                value={draft.port ?? ''}
                min={1}
                max={65535}
                onChange={(v) => setDraft({ ...draft, port: typeof v === 'number' ? v : undefined })}
                data-testid="link-port"
              />
            </Group>
            <TextInput
              label="Private key file on this laptop"
              placeholder="device's own, else the laptop key"
              value={draft.identityFile ?? ''}
              onChange={(e) => setDraft({ ...draft, identityFile: e.currentTarget.value })}
              data-testid="link-identity"
            />
            <TextInput
              label="Expected host key fingerprint"
              placeholder="SHA256:… (read on the device's console)"
              value={draft.expectedFingerprint ?? ''}
              onChange={(e) => setDraft({ ...draft, expectedFingerprint: e.currentTarget.value })}
              data-testid="link-fingerprint"
            />
            <Checkbox
              label="Accept a device's first host key (a changed key is always refused)"
              checked={draft.acceptNewHostKey ?? false}
              onChange={(e) => setDraft({ ...draft, acceptNewHostKey: e.currentTarget.checked })}
              data-testid="link-accept-new"
            />
            {devices.length > 0 && <WillUse devices={devices} link={cleanLinkOptions(draft)} />}
            <Group justify="flex-end" gap="xs">
              <Button
                variant="default"
                size="xs"
                onClick={() => {
                  setLink({});
                  setOpen(false);
                }}
                data-testid="link-clear"
              >
                Use each device&apos;s own
              </Button>
              <Button type="submit" size="xs" data-testid="link-apply">
                Use for the next runs
              </Button>
            </Group>
          </Stack>
        </form>
      </Popover.Dropdown>
    </Popover>
  );
}

/** Per device: the login, port and key a call will use, and where each came from. */
function WillUse({ devices, link }: { devices: Device[]; link: LinkOptions }) {
  const table = useOutpost((s) => s.linkDefaults);
  const shown = devices.slice(0, 8);
  return (
    <Table withRowBorders={false} verticalSpacing={2} fz="xs" data-testid="link-will-use">
      <Table.Tbody>
        {shown.map((d) => {
          const e = effectiveLink(d, link, siteDefaultsFor(table, d));
          return (
            <Table.Tr key={d.id} data-testid="link-will-use-row" data-device-id={d.id}>
              <Table.Td>{d.name}</Table.Td>
              <Table.Td ff="monospace">
                {e.user}@{d.addresses[0] ?? d.hostnames[0] ?? '?'}:{e.port}
              </Table.Td>
              <Table.Td>{e.identityFile ? baseName(e.identityFile) : 'laptop key'}</Table.Td>
              <Table.Td>
                {Object.values(e.from).includes('this run') ? (
                  <Badge size="xs" color="orange" variant="light">
                    overridden
                  </Badge>
                ) : (
                  Object.values(e.from).includes('site default') && (
                    <Badge size="xs" color="blue" variant="light">
                      site default
                    </Badge>
                  )
                )}
              </Table.Td>
            </Table.Tr>
          );
        })}
        {devices.length > shown.length && (
          <Table.Tr>
            <Table.Td colSpan={4}>…and {devices.length - shown.length} more</Table.Td>
          </Table.Tr>
        )}
      </Table.Tbody>
    </Table>
  );
}
