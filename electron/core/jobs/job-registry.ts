import { randomUUID } from 'node:crypto';
import type { JobInfo, JobKind } from '../../../shared/contract/jobs';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { EventBus } from '../router';
import type { DeviceLocks } from './device-locks';

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly signal: AbortSignal;
  /** Reports how far the job is (throttled to a few events a second). */
  progress(done: number, total: number | null, unit?: 'bytes' | 'items'): void;
  /** Holds a device for the rest of `work` (kind `busy` when another job, in any process, holds it). */
  holdDevice<T>(deviceId: string, work: () => Promise<T>, deviceName?: string): Promise<T>;
}

interface Running {
  info: JobInfo;
  controller: AbortController;
}

const PROGRESS_EVERY_MS = 250;

/** Throws kind `cancelled` when the signal was aborted: the safe points of a long operation call this. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw cancelledError(what);
}

export function cancelledError(what: string): OutpostError {
  return new OutpostError('cancelled', `${what} was cancelled`);
}

/** Resolves or rejects with `promise`, or rejects with kind `cancelled` as soon as the signal aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(cancelledError(what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelledError(what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

/**
 * Every long operation of this process (flush, scan, image import, deploy, key install…) runs as a job: an id, a
 * kind, the devices it touches, its progress and an AbortController. `jobs:cancel` aborts it; the operation stops
 * at its next safe point and fails with kind `cancelled`. The CLI aborts every job on Ctrl-C.
 */
export class JobRegistry {
  private readonly running = new Map<string, Running>();
  private emitTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly bus: EventBus,
    /** The store's locks, opened on the first job that holds a device. */
    private readonly locks: () => DeviceLocks,
  ) {}

  async run<T>(spec: { kind: JobKind; label: string; deviceIds?: readonly string[] }, work: (job: Job) => Promise<T>): Promise<T> {
    const id = randomUUID();
    const controller = new AbortController();
    const info: JobInfo = { id, kind: spec.kind, label: spec.label, deviceIds: [...(spec.deviceIds ?? [])], startedAt: new Date().toISOString(), progress: null, cancelling: false };
    this.running.set(id, { info, controller });
    this.emitNow();
    const releases: Array<() => void> = [];
    let lastProgress = 0;
    const job: Job = {
      id,
      kind: spec.kind,
      signal: controller.signal,
      progress: (done, total, unit = 'bytes') => {
        info.progress = { done, total, unit };
        const now = Date.now();
        if (now - lastProgress >= PROGRESS_EVERY_MS || (total !== null && done >= total)) {
          lastProgress = now;
          this.emitSoon();
        }
      },
      holdDevice: async (deviceId, inner, deviceName) => {
        const release = this.locks().acquire(deviceId, spec.kind, id, deviceName);
        releases.push(release);
        try {
          return await inner();
        } finally {
          release();
        }
      },
    };
    try {
      return await work(job);
    } catch (err) {
      // Whatever an aborted operation failed with (a closed channel, a destroyed stream), the caller asked for it.
      if (controller.signal.aborted && toErrorBody(err).kind !== 'cancelled' && toErrorBody(err).kind !== 'busy') {
        throw new OutpostError('cancelled', `${spec.label} was cancelled (${toErrorBody(err).message})`, err instanceof OutpostError ? err.details : undefined);
      }
      throw err;
    } finally {
      for (const release of releases) release();
      this.running.delete(id);
      this.emitNow();
    }
  }

  list(): JobInfo[] {
    return [...this.running.values()].map((r) => ({ ...r.info, deviceIds: [...r.info.deviceIds] }));
  }

  /** Aborts the matching jobs; returns their ids. */
  cancel(match: { id?: string; kind?: JobKind; deviceId?: string }): string[] {
    const out: string[] = [];
    for (const r of this.running.values()) {
      if (match.id !== undefined && r.info.id !== match.id) continue;
      if (match.kind !== undefined && r.info.kind !== match.kind) continue;
      if (match.deviceId !== undefined && !r.info.deviceIds.includes(match.deviceId)) continue;
      r.info.cancelling = true;
      r.controller.abort(new OutpostError('cancelled', `${r.info.label} was cancelled`));
      out.push(r.info.id);
    }
    if (out.length) this.emitNow();
    return out;
  }

  cancelAll(): string[] {
    return this.cancel({});
  }

  close(): void {
    this.cancelAll();
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
  }

  private emitSoon(): void {
    this.emitTimer ??= setTimeout(() => this.emitNow(), 50);
  }

  private emitNow(): void {
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.emitTimer = null;
    this.bus.emit('jobs:changed', { jobs: this.list() });
  }
}
