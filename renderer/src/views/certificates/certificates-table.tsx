import { Badge, Button, Code, Group, Menu, Modal, Paper, Select, Stack, Switch, Table, Text, Title, Tooltip } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { ArgsOf, CertificateRecord } from '../../../../shared/contract';
import { EmptyRow } from '../../components/empty-row';
import { useOutpost } from '../../store/context';
import { day, expiryTone, formatSans } from './cert-format';

type RevokeReason = NonNullable<ArgsOf<'pki:revoke'>['reason']>;
const REASONS: Array<{ value: RevokeReason; label: string }> = [
  { value: 'unspecified', label: 'Unspecified' },
  { value: 'keyCompromise', label: 'Key compromised' },
  { value: 'superseded', label: 'Superseded' },
  { value: 'cessationOfOperation', label: 'Device retired' },
];

/** Every certificate the site CAs issued, soonest expiry first; expired red, under 30 days orange. */
export function CertificatesTable() {
  const certificates = useOutpost((s) => s.certificates);
  const loading = useOutpost((s) => s.pkiLoading);
  const [showRevoked, setShowRevoked] = useState(false);
  const [revoking, setRevoking] = useState<CertificateRecord | null>(null);
  const rows = useMemo(() => certificates.filter((c) => showRevoked || c.status === 'valid'), [certificates, showRevoked]);
  const warned = certificates.filter((c) => c.status === 'valid' && expiryTone(c).state !== 'ok').length;

  return (
    <Paper withBorder radius="md" p="md">
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          <Title order={5}>Issued certificates</Title>
          {warned > 0 && (
            <Badge color="orange" variant="light" data-testid="cert-warnings">
              {warned} expiring or expired
            </Badge>
          )}
        </Group>
        <Switch size="xs" label="Show revoked" checked={showRevoked} onChange={(e) => setShowRevoked(e.currentTarget.checked)} />
      </Group>
      <Table.ScrollContainer minWidth={900}>
        <Table verticalSpacing={6} highlightOnHover data-testid="cert-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Serial</Table.Th>
              <Table.Th>Subject</Table.Th>
              <Table.Th>SANs</Table.Th>
              <Table.Th>Profile</Table.Th>
              <Table.Th>Device</Table.Th>
              <Table.Th>Not after</Table.Th>
              <Table.Th>Installed</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((c) => (
              <CertificateRow key={c.serial} cert={c} onRevoke={() => setRevoking(c)} />
            ))}
            {rows.length === 0 && (
              <EmptyRow colSpan={8} py="lg" testId="cert-empty">
                {loading ? 'Reading the inventory…' : 'No certificates yet. Provision devices to issue their first ones.'}
              </EmptyRow>
            )}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <RevokeModal cert={revoking} onClose={() => setRevoking(null)} />
    </Paper>
  );
}

function CertificateRow({ cert, onRevoke }: { cert: CertificateRecord; onRevoke: () => void }) {
  const renew = useOutpost((s) => s.renewCertificate);
  const [busy, setBusy] = useState(false);
  const tone = expiryTone(cert);
  const run = (setClock: boolean) => {
    setBusy(true);
    void renew(cert.serial, setClock).finally(() => setBusy(false));
  };
  return (
    <Table.Tr data-testid="cert-row" data-serial={cert.serial} data-device={cert.deviceName ?? ''} data-expiry={tone.state}>
      <Table.Td>
        <Tooltip label={cert.serial}>
          <Code>{cert.serial.slice(0, 12)}</Code>
        </Tooltip>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{cert.subject}</Text>
        {cert.keyOrigin === 'laptop' && cert.deviceId && (
          <Text size="xs" c="orange">
            key made on the laptop
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="xs" data-testid="cert-sans">
          {formatSans(cert.sans)}
        </Text>
      </Table.Td>
      <Table.Td>
        <Badge size="sm" variant="light" color="gray">
          {cert.profile}
        </Badge>
      </Table.Td>
      <Table.Td>
        <Text size="sm" data-testid="cert-device">
          {cert.deviceName ?? '(this laptop)'}
        </Text>
      </Table.Td>
      <Table.Td>
        <Group gap={6} wrap="nowrap">
          <Text size="sm" data-testid="cert-not-after">
            {day(cert.notAfter)}
          </Text>
          <Badge size="sm" color={tone.color} variant={tone.state === 'ok' ? 'light' : 'filled'} data-testid="cert-expiry">
            {tone.label}
          </Badge>
        </Group>
      </Table.Td>
      <Table.Td>
        <Text size="xs">{cert.installed.map((i) => i.target).join(', ') || '—'}</Text>
      </Table.Td>
      <Table.Td>
        {cert.status === 'valid' && (
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <Button size="compact-xs" variant="subtle" loading={busy} data-testid="cert-actions">
                Actions
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item onClick={() => run(false)} data-testid="cert-renew">
                Renew (new key on the device)
              </Menu.Item>
              {cert.deviceId && <Menu.Item onClick={() => run(true)}>Renew, setting the device clock if it is off</Menu.Item>}
              <Menu.Divider />
              <Menu.Item color="red" onClick={onRevoke} data-testid="cert-revoke">
                Revoke…
              </Menu.Item>
            </Menu.Dropdown>
          </Menu>
        )}
        {cert.status === 'revoked' && (
          <Badge size="sm" color="gray" variant="outline">
            revoked{cert.revokeReason ? ` (${cert.revokeReason})` : ''}
          </Badge>
        )}
      </Table.Td>
    </Table.Tr>
  );
}

function RevokeModal({ cert, onClose }: { cert: CertificateRecord | null; onClose: () => void }) {
  const revoke = useOutpost((s) => s.revokeCertificate);
  const [reason, setReason] = useState<RevokeReason>('unspecified');
  const [busy, setBusy] = useState(false);
  const docker = cert?.profile === 'docker-server' || cert?.profile === 'docker-client';
  return (
    <Modal opened={cert !== null} onClose={onClose} title="Revoke a certificate">
      {cert && (
        <Stack gap="sm">
          <Text size="sm">
            {cert.subject} ({cert.profile}) on {cert.deviceName ?? 'this laptop'}, serial <Code>{cert.serial.slice(0, 16)}</Code>. The CA signs a new revocation list.
          </Text>
          {docker && (
            <Text size="sm" c="orange">
              dockerd does not check revocation lists: a revoked Docker certificate keeps working until it expires. To lock it out, move the engines to a new site CA.
            </Text>
          )}
          <Select label="Reason" data={REASONS} value={reason} onChange={(v) => v && setReason(v as RevokeReason)} allowDeselect={false} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={busy}
              onClick={() => {
                setBusy(true);
                void revoke(cert.serial, reason).then((ok) => {
                  setBusy(false);
                  if (ok) onClose();
                });
              }}
              data-testid="cert-revoke-confirm"
            >
              Revoke
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
