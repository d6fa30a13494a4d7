import { Badge, Code, Divider, Drawer, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, type ReactNode } from 'react';
import { effectiveLink, siteDefaultsFor, type Device } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { SharedHostKeyBadge, SourceBadges, StateBadge } from './device-badges';
import { DeviceEditForm } from './device-edit-form';
import { EngineSection } from './engine-section';
import { relativeTime } from './device-format';
import { InstallKeyForm } from './install-key-form';
import { Field, TrustSection } from './trust-section';
import { SaveBundleButton } from '../workloads/save-bundle-button';

/** The device detail: what discovery knows, the SSH trust state, and the technician's edits. */
export function DeviceDrawer() {
  const selectedId = useOutpost((s) => s.selectedDeviceId);
  const device = useOutpost((s) => s.devices.find((d) => d.id === s.selectedDeviceId));
  const selectDevice = useOutpost((s) => s.selectDevice);
  const loadPinnedKeys = useOutpost((s) => s.loadPinnedKeys);

  useEffect(() => {
    if (selectedId) void loadPinnedKeys();
  }, [selectedId, loadPinnedKeys]);

  return (
    <Drawer
      opened={device !== undefined}
      onClose={() => selectDevice(null)}
      position="right"
      size={560}
      title={device ? <DrawerTitle device={device} /> : null}
      data-testid="device-drawer"
    >
      {/* Keyed by id so the edit form starts from the device just opened. */}
      {device && <DeviceDetail key={device.id} device={device} />}
    </Drawer>
  );
}

function DrawerTitle({ device }: { device: Device }) {
  return (
    <Group gap="sm">
      <Title order={4} data-testid="drawer-device-name">
        {device.name}
      </Title>
      <StateBadge state={device.state} />
      <SourceBadges sources={device.sources} />
      <SharedHostKeyBadge device={device} />
    </Group>
  );
}

function DeviceDetail({ device }: { device: Device }) {
  const site = siteDefaultsFor(useOutpost((s) => s.linkDefaults), device);
  const link = effectiveLink(device, {}, site);
  return (
    <Stack gap="md" data-testid="device-detail" data-device-id={device.id}>
      <Section title="Network">
        <Field label="Addresses" value={device.addresses.join(', ') || '—'} testId="detail-addresses" />
        <Field label="Hostnames" value={device.hostnames.join(', ') || '—'} />
        <Field label="MACs" value={device.macs.join(', ') || '—'} testId="detail-macs" />
        {device.serialPath && <Field label="Serial" value={device.serialPath} />}
        {device.docker && <Field label="Docker" value={[device.docker.apiVersion && `API ${device.docker.apiVersion}`, device.docker.port && `port ${device.docker.port}`, device.docker.tls ? 'TLS' : ''].filter(Boolean).join(' · ') || 'seen'} />}
        <Text size="xs" c="dimmed">
          First seen {relativeTime(device.firstSeen)} · last seen {relativeTime(device.lastSeen)}
        </Text>
      </Section>
      <Section title={`Services (${device.services.length})`}>
        {device.services.length === 0 ? (
          <Text size="sm" c="dimmed">
            No service announced.
          </Text>
        ) : (
          <Table withRowBorders={false} verticalSpacing={4} data-testid="detail-services">
            <Table.Tbody>
              {device.services.map((s) => (
                <Table.Tr key={`${s.type}:${s.port}`}>
                  <Table.Td>
                    <Code>{s.type}</Code>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {s.port}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {Object.entries(s.txt).map(([k, v]) => (
                        <Badge key={k} size="xs" variant="outline" color="gray" tt="none">
                          {k}={v}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
      <Section title={`SSH — ${link.user}, port ${link.port}, ${link.identityFile ? `key ${link.identityFile.split('/').pop()}` : 'laptop key'}${Object.values(link.from).includes('site default') ? ' (site defaults)' : ''}`}>
        <TrustSection device={device} />
      </Section>
      <Section title="Diagnostics">
        <Group gap="xs">
          <SaveBundleButton deviceId={device.id} deviceName={device.name} size="xs" />
          <Text size="xs" c="dimmed">
            Facts, containers, logs, events and deploy history (over SSH and the engine), secrets redacted.
          </Text>
        </Group>
      </Section>
      <Section title="Container engine">
        <EngineSection device={device} />
      </Section>
      <Section title="Laptop key">
        <InstallKeyForm device={device} />
      </Section>
      <Section title="Name, tags, notes and login">
        <DeviceEditForm device={device} />
      </Section>
    </Stack>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Stack gap={6}>
      <Divider label={title} labelPosition="left" styles={{ label: { fontWeight: 600, fontSize: 12, textTransform: 'uppercase', letterSpacing: '0.03em' } }} />
      {children}
    </Stack>
  );
}
