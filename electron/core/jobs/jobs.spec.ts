import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { OutpostError } from '../../../shared/errors';
import { EventBus } from '../router';
import { openDatabase } from '../store/database';
import { DeviceLocks } from './device-locks';
import { JobRegistry, abortable } from './job-registry';
import { currentProcess, holderAlive, processStart } from './process-identity';

function db() {
  return openDatabase(join(mkdtempSync(join(tmpdir(), 'outpost-jobs-')), 'o.db'));
}

describe('process identity', () => {
  it('reads the start time after a command name with spaces and parentheses', () => {
    const stat = `4242 (evil ) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 12345 67 18446744073709551615`;
    expect(processStart(4242, () => stat)).toBe('987654');
    expect(processStart(process.pid)).toMatch(/^\d+$/);
  });

  it('counts a holder dead when its pid is gone or reused by a later process, alive on another host', () => {
    const self = currentProcess();
    expect(holderAlive(self, self)).toBe(true);
    expect(holderAlive({ ...self, start: '1' }, self)).toBe(false); // same pid, other start: reused
    expect(holderAlive({ pid: 999_999_999, start: null, hostname: self.hostname }, self)).toBe(false);
    expect(holderAlive({ pid: 999_999_999, start: null, hostname: 'other-laptop' }, self)).toBe(true);
  });
});

describe('device locks', () => {
  it('refuses a second holder with kind busy naming the first, and takes over a dead one', () => {
    const store = db();
    const app = new DeviceLocks(store, 'app', { pid: 100, start: '5', hostname: 'h' }, (holder) => holder.pid === 100);
    const cli = new DeviceLocks(store, 'cli', { pid: 200, start: '7', hostname: 'h' }, (holder) => holder.pid === 100);
    const release = app.acquire('dev-1', 'flush', 'job-a', 'gw-1');
    let err: unknown;
    try {
      cli.acquire('dev-1', 'deploy', 'job-b', 'gw-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OutpostError);
    expect((err as OutpostError).kind).toBe('busy');
    expect((err as OutpostError).message).toMatch(/gw-1 is busy: flush by app pid 100 since/);
    expect((err as OutpostError).details).toMatchObject({ pid: 100, processKind: 'app', operation: 'flush' });
    // Another device is free.
    cli.acquire('dev-2', 'flush', 'job-c')();
    release();
    cli.acquire('dev-1', 'deploy', 'job-b')();

    // pid 300 died holding dev-3: the next taker gets it.
    const dead = new DeviceLocks(store, 'cli', { pid: 300, start: '9', hostname: 'h' }, () => false);
    dead.acquire('dev-3', 'flush', 'job-d');
    expect(app.list().map((l) => l.deviceId)).toEqual([]);
    const took = app.acquire('dev-3', 'flush', 'job-e');
    expect(app.list()).toMatchObject([{ deviceId: 'dev-3', pid: 100, ours: true }]);
    took();
    store.close();
  });
});

describe('job registry', () => {
  it('lists running jobs, cancels them by kind, reports cancelled, and releases their devices', async () => {
    const store = db();
    const bus = new EventBus();
    const seen: number[] = [];
    bus.subscribe((name, payload) => name === 'jobs:changed' && seen.push((payload as { jobs: unknown[] }).jobs.length));
    const locks = new DeviceLocks(store, 'app');
    const jobs = new JobRegistry(bus, () => locks);
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const done = jobs.run({ kind: 'flush', label: 'flush of gw-1', deviceIds: ['d1'] }, (job) =>
      job.holdDevice('d1', async () => {
        started();
        await new Promise((_, reject) => job.signal.addEventListener('abort', () => reject(new Error('channel closed'))));
      }),
    );
    await running;
    expect(jobs.list()).toMatchObject([{ kind: 'flush', deviceIds: ['d1'], cancelling: false }]);
    await expect(jobs.run({ kind: 'deploy', label: 'deploy', deviceIds: ['d1'] }, (job) => job.holdDevice('d1', async () => 1))).rejects.toMatchObject({ kind: 'busy' });
    expect(jobs.cancel({ kind: 'deploy' })).toEqual([]);
    expect(jobs.cancel({ kind: 'flush' })).toHaveLength(1);
    await expect(done).rejects.toMatchObject({ kind: 'cancelled' });
    expect(jobs.list()).toEqual([]);
    expect(await jobs.run({ kind: 'deploy', label: 'deploy', deviceIds: ['d1'] }, (job) => job.holdDevice('d1', async () => 1))).toBe(1);
    // Events are validated with the jobs area's schemas, loaded on first use: delivery may come a tick later.
    await vi.waitFor(() => expect(seen.at(-1)).toBe(0));
    expect(Math.max(...seen)).toBe(2); // the flush, and the deploy refused while it ran
    store.close();
  });

  it('abortable() answers at once when the signal aborts', async () => {
    const c = new AbortController();
    const p = abortable(new Promise(() => undefined), c.signal, 'the scan');
    c.abort();
    await expect(p).rejects.toMatchObject({ kind: 'cancelled', message: 'the scan was cancelled' });
  });
});
