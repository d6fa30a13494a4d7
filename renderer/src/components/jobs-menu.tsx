import { Badge, Button, Group, Menu, Progress, Stack, Text } from '@mantine/core';
import type { JobInfo } from '../../../shared/contract';
import { useOutpost } from '../store/context';
import { formatBytes } from '../views/buffers/transfer-format';

function progressText(job: JobInfo): string {
  const p = job.progress;
  if (!p) return '';
  const fmt = (n: number) => (p.unit === 'bytes' ? formatBytes(n) : String(n));
  return p.total !== null ? `${fmt(p.done)} / ${fmt(p.total)}` : fmt(p.done);
}

/** Status bar: how many long operations run, each with its progress and a Cancel. */
export function JobsMenu() {
  const jobs = useOutpost((s) => s.jobs);
  const cancelJobs = useOutpost((s) => s.cancelJobs);
  if (!jobs.length) return null;
  return (
    <Menu position="top-start" withinPortal shadow="md" width={360}>
      <Menu.Target>
        <Badge size="sm" variant="light" color="blue" style={{ cursor: 'pointer' }} data-testid="status-jobs" data-count={jobs.length}>
          {jobs.length} running
        </Badge>
      </Menu.Target>
      <Menu.Dropdown>
        <Stack gap="xs" p="xs">
          {jobs.map((job) => (
            <Stack key={job.id} gap={4} data-testid="status-job" data-kind={job.kind}>
              <Group justify="space-between" wrap="nowrap">
                <Text size="sm" truncate="end">
                  {job.label}
                </Text>
                <Button size="compact-xs" color="red" variant="light" loading={job.cancelling} onClick={() => void cancelJobs({ id: job.id })} data-testid="status-job-cancel">
                  Cancel
                </Button>
              </Group>
              {job.progress && (
                <>
                  {job.progress.total ? <Progress size="xs" value={(job.progress.done / job.progress.total) * 100} /> : null}
                  <Text size="xs" c="dimmed">
                    {progressText(job)}
                  </Text>
                </>
              )}
            </Stack>
          ))}
        </Stack>
      </Menu.Dropdown>
    </Menu>
  );
}
