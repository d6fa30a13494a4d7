import { ActionIcon, Badge, Button, Group, Paper, Popover, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { useState } from 'react';
import { TrashIcon } from '../../components/icons';
import { useOutpost } from '../../store/context';
import { formatBytes, shortId } from './format';
import { CancelJobButton } from '../../components/cancel-job-button';

/** The laptop's offline image cache: what it carries, whether the blobs are intact, and where each image runs. */
export function ImagesPanel() {
  const images = useOutpost((s) => s.images);
  const busy = useOutpost((s) => s.imagesBusy);
  const problems = useOutpost((s) => s.imageProblems);
  const importImage = useOutpost((s) => s.importImage);
  const verifyImages = useOutpost((s) => s.verifyImages);
  const removeImage = useOutpost((s) => s.removeImage);
  const devices = useOutpost((s) => s.devices);
  const deviceName = (id: string) => devices.find((d) => d.id === id)?.name ?? id;
  const [path, setPath] = useState('');
  const total = images.reduce((n, i) => n + i.size, 0);

  return (
    <Stack gap="md">
      <Paper withBorder radius="md" p="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (path.trim()) void importImage(path.trim()).then((ok) => ok && setPath(''));
          }}
        >
          <Group align="flex-end">
            <TextInput
              label="Import an image archive"
              description="A `docker save` tar (or .tar.gz) on this laptop or a USB stick"
              placeholder="/media/usb/images/pump-controller-2.4.tar"
              value={path}
              onChange={(e) => setPath(e.currentTarget.value)}
              style={{ flex: 1 }}
              data-testid="image-import-path"
            />
            <Button type="submit" loading={busy} disabled={!path.trim()} data-testid="image-import">
              Import
            </Button>
            <CancelJobButton kind="image-import" />
            <Button variant="default" loading={busy} disabled={images.length === 0} onClick={() => void verifyImages()} data-testid="image-verify-all">
              Verify all
            </Button>
          </Group>
        </form>
      </Paper>
      <Paper withBorder radius="md">
        <Group justify="space-between" px="md" py="xs">
          <Text fw={600}>Cached images</Text>
          <Text size="xs" c="dimmed">
            {images.length} image(s) · {formatBytes(total)}
          </Text>
        </Group>
        {images.length === 0 ? (
          <Text size="sm" c="dimmed" px="md" pb="md">
            The cache is empty. Import the images this site needs before you leave connectivity behind.
          </Text>
        ) : (
          <Table highlightOnHover verticalSpacing={6} data-testid="images-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Image</Table.Th>
                <Table.Th>ID</Table.Th>
                <Table.Th>Layers</Table.Th>
                <Table.Th>Size</Table.Th>
                <Table.Th>Running on</Table.Th>
                <Table.Th>Integrity</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {images.map((image) => {
                const found = problems[image.id];
                return (
                  <Table.Tr key={image.id} data-testid="image-row">
                    <Table.Td>
                      <Text size="sm" fw={550} ff="monospace">
                        {image.repoTags.join(', ') || '<untagged>'}
                      </Text>
                      <Text size="xs" c="dimmed">
                        imported {new Date(image.importedAt).toLocaleString()} from {image.source}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace" c="dimmed">
                        {shortId(image.id)}
                      </Text>
                    </Table.Td>
                    <Table.Td>{image.layers.length}</Table.Td>
                    <Table.Td>{formatBytes(image.size)}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {image.devices.length === 0 && (
                          <Text size="xs" c="dimmed">
                            —
                          </Text>
                        )}
                        {image.devices.map((d) => (
                          <Badge key={d} size="sm" variant="light">
                            {deviceName(d)}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      {found === undefined ? (
                        <Button size="compact-xs" variant="subtle" onClick={() => void verifyImages(image.id)}>
                          verify
                        </Button>
                      ) : found.length === 0 ? (
                        <Badge size="sm" color="teal" variant="light">
                          intact
                        </Badge>
                      ) : (
                        <Tooltip label={found.join('\n')} multiline w={360}>
                          <Badge size="sm" color="red" variant="light">
                            {found.length} problem(s)
                          </Badge>
                        </Tooltip>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <RemoveImage label={image.repoTags[0] ?? shortId(image.id)} onConfirm={() => void removeImage(image.id)} />
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Paper>
    </Stack>
  );
}

function RemoveImage({ label, onConfirm }: { label: string; onConfirm(): void }) {
  const [open, setOpen] = useState(false);
  return (
    <Popover opened={open} onChange={setOpen} position="left" withArrow>
      <Popover.Target>
        <ActionIcon variant="subtle" color="red" aria-label={`Remove ${label}`} onClick={() => setOpen((o) => !o)}>
          <TrashIcon size={16} />
        </ActionIcon>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap="xs">
          <Text size="sm">Remove {label} from the cache? Blobs no other image uses are deleted.</Text>
          <Group justify="flex-end" gap="xs">
            <Button size="xs" variant="default" onClick={() => setOpen(false)}>
              Keep
            </Button>
            <Button
              size="xs"
              color="red"
              onClick={() => {
                setOpen(false);
                onConfirm();
              }}
            >
              Remove
            </Button>
          </Group>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
