import { Badge, Button, Code, FileButton, Group, Modal, Paper, PasswordInput, ScrollArea, Select, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { CaInfo, KeyAlgorithm } from '../../../../shared/contract';
import { useOutpost } from '../../store/context';
import { day, expiryTone } from './cert-format';

const ALGORITHMS: Array<{ value: KeyAlgorithm; label: string }> = [
  { value: 'ec-p256', label: 'EC P-256 (default)' },
  { value: 'rsa-3072', label: 'RSA 3072' },
  { value: 'ed25519', label: 'Ed25519' },
];

/** Saves text as a file the technician can hand to other tools (works offline, in Electron and the browser). */
function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-pem-file' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The site CAs on this laptop: create one, import the company's intermediate, export the certificate and chain. */
export function CaPanel() {
  const cas = useOutpost((s) => s.cas);
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [exported, setExported] = useState<{ ca: CaInfo; pem: string } | null>(null);
  const exportCa = useOutpost((s) => s.exportCa);

  return (
    <Paper withBorder radius="md" p="md" data-testid="ca-panel">
      <Group justify="space-between" mb="sm">
        <Title order={5}>Site CAs</Title>
        <Group gap="xs">
          <Button size="xs" variant="default" onClick={() => setImporting(true)} data-testid="ca-import-open">
            Import PEM
          </Button>
          <Button size="xs" onClick={() => setCreating(true)} data-testid="ca-create-open">
            Create CA
          </Button>
        </Group>
      </Group>
      {cas.length === 0 ? (
        <Text size="sm" c="dimmed" data-testid="ca-empty">
          No site CA yet. Create one on this laptop (its key is sealed in the vault and never leaves it), or import an intermediate issued by your company's root.
        </Text>
      ) : (
        <Table verticalSpacing={6} data-testid="ca-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Subject</Table.Th>
              <Table.Th>Key</Table.Th>
              <Table.Th>Valid until</Table.Th>
              <Table.Th>Issued</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {cas.map((ca) => {
              const tone = expiryTone({ notAfter: ca.notAfter, status: 'valid' });
              return (
                <Table.Tr key={ca.id} data-testid="ca-row" data-ca={ca.name}>
                  <Table.Td>
                    <Group gap={6}>
                      <Text size="sm" fw={550}>
                        {ca.name}
                      </Text>
                      {ca.imported && (
                        <Badge size="xs" variant="light">
                          imported
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{ca.subject}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{ca.algorithm}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c={tone.state === 'ok' ? undefined : tone.color}>
                      {day(ca.notAfter)}
                    </Text>
                  </Table.Td>
                  <Table.Td>{ca.issued}</Table.Td>
                  <Table.Td>
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      onClick={() => void exportCa(ca.id).then((pem) => pem && setExported({ ca, pem }))}
                      data-testid="ca-export"
                    >
                      Export
                    </Button>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <CreateCaModal opened={creating} onClose={() => setCreating(false)} />
      <ImportCaModal opened={importing} onClose={() => setImporting(false)} />
      <Modal opened={exported !== null} onClose={() => setExported(null)} title={`CA certificate and chain: ${exported?.ca.name ?? ''}`} size="lg">
        {exported && (
          <Stack gap="sm">
            <Text size="sm">Give this to whatever must trust the site's devices (a Docker client, an MQTT broker). It holds no private key.</Text>
            <ScrollArea h={260}>
              <Code block data-testid="ca-export-pem">
                {exported.pem}
              </Code>
            </ScrollArea>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => void navigator.clipboard?.writeText(exported.pem)}>
                Copy
              </Button>
              <Button onClick={() => download(`${exported.ca.name}-ca.pem`, exported.pem)} data-testid="ca-export-save">
                Save .pem
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Paper>
  );
}

function CreateCaModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const createCa = useOutpost((s) => s.createCa);
  const [name, setName] = useState('');
  const [algorithm, setAlgorithm] = useState<KeyAlgorithm>('ec-p256');
  const [years, setYears] = useState('10');
  const [busy, setBusy] = useState(false);
  const validityDays = Math.round(Number(years) * 365);
  const valid = name.trim() !== '' && Number.isFinite(validityDays) && validityDays >= 1;

  async function submit() {
    setBusy(true);
    const ca = await createCa({ name: name.trim(), algorithm, validityDays });
    setBusy(false);
    if (ca) {
      setName('');
      onClose();
    }
  }

  return (
    <Modal opened={opened} onClose={onClose} title="Create a site CA">
      <Stack gap="sm">
        <TextInput label="Name" description="One CA per site is usual (plant-3)." value={name} onChange={(e) => setName(e.currentTarget.value)} data-testid="ca-name" autoFocus />
        <Select label="Key" data={ALGORITHMS} value={algorithm} onChange={(v) => v && setAlgorithm(v as KeyAlgorithm)} allowDeselect={false} data-testid="ca-algorithm" />
        <TextInput label="Valid for (years)" value={years} onChange={(e) => setYears(e.currentTarget.value)} data-testid="ca-years" />
        <Text size="xs" c="dimmed">
          The CA key is encrypted by the vault passphrase. A locked vault asks for it first.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button disabled={!valid} loading={busy} onClick={() => void submit()} data-testid="ca-create">
            Create
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** A PEM pasted or read from a file (a USB stick): the text lands in the box, so the technician sees what is imported. */
function PemField({ label, description, value, onChange, testId }: { label: string; description: string; value: string; onChange: (v: string) => void; testId: string }) {
  return (
    <Stack gap={4}>
      <Textarea label={label} description={description} autosize minRows={3} maxRows={8} value={value} onChange={(e) => onChange(e.currentTarget.value)} styles={{ input: { fontFamily: 'ui-monospace, monospace', fontSize: 11 } }} data-testid={testId} />
      <FileButton onChange={(file) => void file?.text().then(onChange)} accept=".pem,.crt,.key,.cer,text/plain">
        {(props) => (
          <Button {...props} size="compact-xs" variant="subtle" w="fit-content">
            Read from a file…
          </Button>
        )}
      </FileButton>
    </Stack>
  );
}

function ImportCaModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const importCa = useOutpost((s) => s.importCa);
  const [name, setName] = useState('');
  const [certificatePem, setCert] = useState('');
  const [keyPem, setKey] = useState('');
  const [keyPassphrase, setKeyPassphrase] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    const ca = await importCa({ name: name.trim(), certificatePem, keyPem, ...(keyPassphrase ? { keyPassphrase } : {}) });
    setBusy(false);
    setKeyPassphrase('');
    if (ca) {
      setName('');
      setCert('');
      setKey('');
      onClose();
    }
  }

  return (
    <Modal opened={opened} onClose={onClose} title="Import an intermediate CA (PEM)" size="lg">
      <Stack gap="sm">
        <TextInput label="Name on this laptop" value={name} onChange={(e) => setName(e.currentTarget.value)} data-testid="ca-import-name" />
        <PemField label="Certificate and chain" description="The CA certificate first, then its chain up to the company root." value={certificatePem} onChange={setCert} testId="ca-import-cert" />
        <PemField label="Private key" description="PKCS#8, SEC1 or PKCS#1, encrypted or not. It is sealed in the vault; the text here is dropped." value={keyPem} onChange={setKey} testId="ca-import-key" />
        <PasswordInput label="Key passphrase (if the key file is encrypted)" value={keyPassphrase} onChange={(e) => setKeyPassphrase(e.currentTarget.value)} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button disabled={!name.trim() || !certificatePem.trim() || !keyPem.trim()} loading={busy} onClick={() => void submit()} data-testid="ca-import">
            Import
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
