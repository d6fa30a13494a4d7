import { Badge, Button, Group, Stack, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { PlusIcon, SearchIcon } from '../components/icons';
import { useOutpost } from '../store/context';
import { AddDeviceForm } from './add-device-form';
import { DevicesTable } from './devices-table';

export function DevicesView() {
  const count = useOutpost((s) => s.devices.length);
  const [search, setSearch] = useState('');
  const [adding, setAdding] = useState(false);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="center">
        <Group gap="xs" align="center">
          <Title order={3}>Devices</Title>
          <Badge variant="light" color="gray" data-testid="devices-count">
            {count}
          </Badge>
        </Group>
        <Group gap="sm">
          <TextInput
            placeholder="Search name, address, MAC, tag…"
            leftSection={<SearchIcon size={15} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            w={280}
            aria-label="Search devices"
            data-testid="devices-search"
          />
          <Button leftSection={<PlusIcon size={16} />} onClick={() => setAdding((v) => !v)} data-testid="add-device-open" variant={adding ? 'light' : 'filled'}>
            Add device
          </Button>
        </Group>
      </Group>
      {adding && <AddDeviceForm onDone={() => setAdding(false)} />}
      <DevicesTable search={search} />
      <Text size="xs" c="dimmed">
        Devices found by discovery appear here on their own; the list follows changes as they happen.
      </Text>
    </Stack>
  );
}
