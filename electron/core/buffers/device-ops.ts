import type { Device, FlushCompression } from '../../../shared/contract';
import type { DeviceFlush, StreamFlush } from '../../../shared/contract/buffers';
import { OutpostError } from '../../../shared/errors';
import type { RunResult, SshConnection } from '../transport/ssh-connection';
import type { SegmentStore } from './segment-store';
import type { FlushProgress } from './progress';

/** Everything one device's flush needs; the result is filled in as segments become durable. */
export interface DeviceFlushContext {
  device: Device;
  conn: SshConnection;
  store: SegmentStore;
  ackMode: 'delete' | 'move';
  /** A command or transfer that makes no progress for this long is abandoned (the link is probably cut). */
  stallMs: number;
  progress: FlushProgress;
  result: DeviceFlush;
  /** Aborted when the technician cancels: the transfer stops, what was acknowledged stays acknowledged. */
  signal?: AbortSignal;
  /** Keeps a new compression decision with the device (compression.ts). */
  recordCompression?: (decision: FlushCompression) => void;
}

export function streamTotals(result: DeviceFlush, stream: string): StreamFlush {
  let totals = result.streams[stream];
  if (!totals) {
    totals = { segments: 0, bytes: 0, duplicatesSkipped: 0, quarantined: 0 };
    result.streams[stream] = totals;
  }
  return totals;
}

/** Runs a device command to completion, abandoning it when the device stays silent longer than `timeoutMs`. */
export async function runBounded(conn: SshConnection, argv: readonly string[], timeoutMs: number, what: string): Promise<RunResult> {
  const running = conn.run(argv);
  running.catch(() => undefined); // settled later when the connection drops; the timeout below already answered
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OutpostError('unreachable', `${what}: device ${conn.target.host} did not answer within ${Math.round(timeoutMs / 1000)} s (link down?)`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function failIfNonZero(res: RunResult, what: string): void {
  if (res.code !== 0) throw new OutpostError('protocol', `${what} failed on the device (exit ${String(res.code)}): ${res.stderr.trim().slice(0, 500)}`);
}
