import './devices.css';
import { Badge, Button, Group, MultiSelect, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { DeviceSource } from '../../../../shared/contract';
import { PlusIcon, SearchIcon } from '../../components/icons';
import { useOutpost } from '../../store/context';
import { AddDeviceForm } from './add-device-form';
import { SOURCE_LABEL } from './device-badges';
import { DeviceDrawer } from './device-drawer';
import { filterDevices, NO_FILTER, tagOptions, type DeviceFilter, type DeviceState } from './device-filters';
import { DevicesTable } from './devices-table';
import { ScanPanel } from './scan-panel';

const SOURCE_OPTIONS = (Object.keys(SOURCE_LABEL) as DeviceSource[]).map((value) => ({ value, label: SOURCE_LABEL[value] }));
const STATE_OPTIONS: DeviceState[] = ['online', 'stale', 'unknown'];

export function DevicesView() {
  const devices = useOutpost((s) => s.devices);
  const selectDevice = useOutpost((s) => s.selectDevice);
  const [filter, setFilter] = useState<DeviceFilter>(NO_FILTER);
  const [adding, setAdding] = useState(false);
  const shown = useMemo(() => filterDevices(devices, filter), [devices, filter]);
  const tags = useMemo(() => tagOptions(devices), [devices]);
  const update = (change: Partial<DeviceFilter>) => setFilter((f) => ({ ...f, ...change }));

  return (
    <Stack gap="md">
      <Group justify="space-between" align="center">
        <Group gap="xs" align="center">
          <Title order={3}>Devices</Title>
          <Badge variant="light" color="gray" data-testid="devices-count">
            {shown.length === devices.length ? devices.length : `${shown.length} of ${devices.length}`}
          </Badge>
        </Group>
        <Button leftSection={<PlusIcon size={16} />} onClick={() => setAdding((v) => !v)} data-testid="add-device-open" variant={adding ? 'light' : 'default'}>
          Add by hand
        </Button>
      </Group>
      <ScanPanel />
      {adding && <AddDeviceForm onDone={() => setAdding(false)} />}
      <Group gap="sm" wrap="wrap">
        <TextInput
          placeholder="Search name, address, MAC, tag…"
          leftSection={<SearchIcon size={15} />}
          value={filter.search}
          onChange={(e) => update({ search: e.currentTarget.value })}
          w={280}
          aria-label="Search devices"
          data-testid="devices-search"
        />
        <MultiSelect
          placeholder={filter.sources.length ? '' : 'any source'}
          data={SOURCE_OPTIONS}
          value={filter.sources}
          onChange={(v) => update({ sources: v as DeviceSource[] })}
          w={230}
          clearable
          clearButtonProps={{ 'aria-label': 'Clear the source filter' }}
          aria-label="Filter by source"
          data-testid="filter-source"
        />
        <MultiSelect
          placeholder={filter.states.length ? '' : 'any state'}
          data={STATE_OPTIONS}
          value={filter.states}
          onChange={(v) => update({ states: v as DeviceState[] })}
          w={200}
          clearable
          clearButtonProps={{ 'aria-label': 'Clear the state filter' }}
          aria-label="Filter by state"
          data-testid="filter-state"
        />
        <Select
          placeholder="any tag"
          data={tags}
          value={filter.tag}
          onChange={(tag) => update({ tag })}
          w={200}
          clearable
          clearButtonProps={{ 'aria-label': 'Clear the tag filter' }}
          searchable
          aria-label="Filter by tag"
          data-testid="filter-tag"
          disabled={tags.length === 0}
        />
      </Group>
      <DevicesTable devices={shown} totalCount={devices.length} onOpen={selectDevice} />
      <Text size="xs" c="dimmed">
        Devices found by discovery appear here on their own; the list follows changes as they happen. Click a device for its details and host key.
      </Text>
      <DeviceDrawer />
    </Stack>
  );
}
