import { Group, Progress, Stack, Text } from '@mantine/core';
import type { FlushProgressEvent } from '../../store/buffers-slice';
import { deviceProgress, formatBytes, formatEta, formatRate, percent } from './transfer-format';

/** One bar with the numbers a technician waits on: bytes moved of total, rate, time left. */
export function TransferBar({ label, bytesDone, bytesTotal, rate, etaSeconds, testId }: { label: string; bytesDone: number; bytesTotal: number; rate: number; etaSeconds: number | null; testId?: string }) {
  const value = percent(bytesDone, bytesTotal);
  const done = bytesTotal > 0 && bytesDone >= bytesTotal;
  return (
    <Stack gap={2} data-testid={testId} data-label={label} data-bytes-done={bytesDone} data-bytes-total={bytesTotal}>
      <Group justify="space-between" gap="xs" wrap="nowrap">
        <Text size="xs" fw={500} truncate>
          {label}
        </Text>
        <Text size="xs" c="dimmed" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
          {formatBytes(bytesDone)} / {formatBytes(bytesTotal)} · {formatRate(rate)} · {done ? 'done' : `ETA ${formatEta(etaSeconds)}`}
        </Text>
      </Group>
      <Progress value={value} size="sm" color={done ? 'teal' : 'blue'} striped={!done} animated={!done} aria-label={`${label} progress`} />
    </Stack>
  );
}

/** The device's total bar, then one bar per stream. */
export function DeviceFlushProgress({ streams }: { streams: Record<string, FlushProgressEvent> }) {
  const list = Object.values(streams).sort((a, b) => a.stream.localeCompare(b.stream));
  if (list.length === 0) return null;
  const total = deviceProgress(list);
  return (
    <Stack gap={6} data-testid="flush-progress">
      {list.length > 1 && <TransferBar label="all streams" {...total} testId="flush-progress-device" />}
      {list.map((s) => (
        <TransferBar key={s.stream} label={s.stream} {...s} testId="flush-progress-stream" />
      ))}
    </Stack>
  );
}
