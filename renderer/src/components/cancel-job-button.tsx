import { Button } from '@mantine/core';
import type { JobInfo, JobKind } from '../../../shared/contract';
import { useOutpost } from '../store/context';

/** "Cancel" beside a long operation's button, shown while a job of that kind runs; it stops at the next safe point. */
export function CancelJobButton({ kind, deviceId, label = 'Cancel' }: { kind: JobKind; deviceId?: string; label?: string }) {
  // Counts, not arrays: a selector must return the same value for the same state.
  const matches = (j: JobInfo) => j.kind === kind && (deviceId === undefined || j.deviceIds.includes(deviceId));
  const running = useOutpost((s) => s.jobs.filter(matches).length);
  const waiting = useOutpost((s) => s.jobs.filter((j) => matches(j) && !j.cancelling).length);
  const cancelJobs = useOutpost((s) => s.cancelJobs);
  if (!running) return null;
  const cancelling = waiting === 0;
  return (
    <Button color="red" variant="light" loading={cancelling} onClick={() => void cancelJobs({ kind, deviceId })} data-testid={`cancel-${kind}`}>
      {label}
    </Button>
  );
}
