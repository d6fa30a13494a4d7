import { describe, expect, it, vi } from 'vitest';
import type { Device } from '../../../shared/contract';
import type { IssueResult, ProvisionStage } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import type { DeviceLocks } from '../jobs/device-locks';
import { JobRegistry } from '../jobs/job-registry';
import { EventBus } from '../router';
import { BulkProvisioner, runBounded } from './bulk';
import type { IssueOptions } from './issuer';

const tick = () => new Promise<void>((r) => setTimeout(r, 1));

describe('runBounded', () => {
  it('never runs more than the bound at once, starts the next as one finishes, and runs every item once', async () => {
    let inFlight = 0;
    let peak = 0;
    const ran: number[] = [];
    await runBounded(
      Array.from({ length: 23 }, (_, i) => i),
      4,
      async (n) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        // Uneven durations: a slot freed by a short item is reused at once.
        for (let t = 0; t < (n % 5) + 1; t++) await tick();
        ran.push(n);
        inFlight--;
      },
    );
    expect(peak).toBe(4);
    expect(ran.sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('with fewer items than the bound runs them all at once, and an empty list is a no-op', async () => {
    let peak = 0;
    let inFlight = 0;
    await runBounded([1, 2], 8, async () => {
      peak = Math.max(peak, ++inFlight);
      await tick();
      inFlight--;
    });
    expect(peak).toBe(2);
    await runBounded([], 8, async () => {
      throw new Error('never');
    });
  });
});

const device = (id: string): Device => ({ id, name: `gw-${id}` }) as Device;
const ok = (id: string): IssueResult => ({ certificate: { serial: `s-${id}` } as IssueResult['certificate'], caPem: '', chainPem: '', clock: null, plan: null, installed: false, notes: [] });

/** A bulk provisioner over a fake issuer whose devices fail as `failures` says, with real jobs and a lock stub. */
function setup(failures: Record<string, { stage: ProvisionStage; kind: 'clock-skew' | 'unreachable'; unlessSetClock?: boolean }>) {
  const bus = new EventBus();
  const events: Array<{ deviceId: string; stage: string; kind?: string }> = [];
  bus.subscribe((name, payload) => name === 'pki:progress' && events.push(payload as never));
  const held: string[] = [];
  const locks = { acquire: (id: string) => (held.push(id), () => held.splice(held.indexOf(id), 1)) } as unknown as DeviceLocks;
  const jobs = new JobRegistry(bus, () => locks);
  const calls: IssueOptions[] = [];
  let inFlight = 0;
  let peak = 0;
  const issue = async (opts: IssueOptions): Promise<IssueResult> => {
    calls.push(opts);
    peak = Math.max(peak, ++inFlight);
    try {
      expect(held).toContain(opts.device);
      const fail = failures[opts.device];
      for (const stage of ['connect', 'clock', 'key', 'sign', 'store', 'verify'] as const) {
        opts.onStage?.(stage);
        await tick();
        if (fail && fail.stage === stage && !(fail.unlessSetClock && opts.setClock)) throw new OutpostError(fail.kind, `${opts.device} failed at ${stage}`);
      }
      opts.onStage?.('done');
      return ok(opts.device);
    } finally {
      inFlight--;
    }
  };
  const ids = ['1', '2', '3', '4', '5', '6'];
  const bulk = new BulkProvisioner({ issue, findDevice: (ref) => (ids.includes(ref) ? device(ref) : undefined), jobs, bus });
  return { bulk, calls, events, peak: () => peak, jobs };
}

describe('bulk provisioning', () => {
  it('provisions in parallel within the bound; the summary has each device’s outcome, stage and kind', async () => {
    const t = setup({ '2': { stage: 'clock', kind: 'clock-skew', unlessSetClock: true }, '5': { stage: 'connect', kind: 'unreachable' } });
    const summary = await t.bulk.start(['1', '2', '3', '4', '5', '6', 'nope'], { profile: 'device-identity', passphrase: 'p' }, 3);
    expect(t.peak()).toBe(3);
    expect(summary).toMatchObject({ total: 7, succeeded: 4, failed: 3, profile: 'device-identity', install: null });
    const byId = Object.fromEntries(summary.outcomes.map((o) => [o.deviceId, o]));
    expect(byId['1']).toMatchObject({ ok: true, stage: 'done', attempts: 1, deviceName: 'gw-1' });
    expect(byId['1']!.result?.certificate?.serial).toBe('s-1');
    expect(byId['2']).toMatchObject({ ok: false, stage: 'clock', error: { kind: 'clock-skew' } });
    expect(byId['5']).toMatchObject({ ok: false, stage: 'connect', error: { kind: 'unreachable' } });
    expect(byId['nope']).toMatchObject({ ok: false, stage: 'queued', error: { kind: 'not-found' } });
    // Every call carried the run id and a signal; the passphrase went to this run only.
    expect(t.calls.every((c) => c.runId === summary.runId && c.signal instanceof AbortSignal && c.passphrase === 'p')).toBe(true);
    await vi.waitFor(() => expect(t.events.filter((e) => e.stage === 'failed').map((e) => [e.deviceId, e.kind])).toEqual(expect.arrayContaining([['2', 'clock-skew'], ['5', 'unreachable'], ['nope', 'not-found']])));
    expect(t.jobs.list()).toEqual([]);
  });

  it('retry runs only the failed devices, with the retry’s own options, and updates the summary in place', async () => {
    const t = setup({ '2': { stage: 'clock', kind: 'clock-skew', unlessSetClock: true }, '4': { stage: 'sign', kind: 'clock-skew', unlessSetClock: true } });
    const first = await t.bulk.start(['1', '2', '3', '4'], { profile: 'device-identity', passphrase: 'p' }, 2);
    expect(first.failed).toBe(2);
    t.calls.length = 0;
    const again = await t.bulk.retry(first.runId, { setClock: true });
    expect(t.calls.map((c) => c.device).sort()).toEqual(['2', '4']);
    expect(t.calls.every((c) => c.setClock === true && c.passphrase === undefined && c.profile === 'device-identity')).toBe(true);
    expect(again.runId).toBe(first.runId);
    expect(again).toMatchObject({ total: 4, succeeded: 4, failed: 0 });
    expect(again.outcomes.map((o) => [o.deviceId, o.attempts])).toEqual([['1', 1], ['2', 2], ['3', 1], ['4', 2]]);
    // Nothing left to retry: no device is touched.
    t.calls.length = 0;
    await t.bulk.retry(first.runId);
    expect(t.calls).toEqual([]);
  });

  it('a retry that fails again keeps the device failed with the new stage; an unknown run is kind not-found', async () => {
    const t = setup({ '3': { stage: 'key', kind: 'unreachable' } });
    const first = await t.bulk.start(['3', '1'], { profile: 'docker-server', install: 'docker' }, 8);
    const again = await t.bulk.retry(first.runId);
    expect(again.outcomes[0]).toMatchObject({ deviceId: '3', ok: false, stage: 'key', attempts: 2, error: { kind: 'unreachable' } });
    expect(again.outcomes[1]).toMatchObject({ deviceId: '1', ok: true, attempts: 1 });
    await expect(t.bulk.retry('no-such-run')).rejects.toMatchObject({ kind: 'not-found' });
  });
});
