import { describe, expect, it, vi } from 'vitest';
import type { ContainerSummary, DeployRecord } from '../../../shared/contract';
import { createOutpostStore } from './index';
import { memoryStorage, ScriptedApi } from './scripted-api';
import { mergeRolloutStep } from './workloads-slice';

const ticker: ContainerSummary = { id: 'c1', name: 'ticker', image: 'busybox', imageId: 'sha256:1', state: 'running', health: null, restarts: 0, startedAt: null, uptimeSeconds: 5, service: null };

function setup(storage = memoryStorage()) {
  const api = new ScriptedApi();
  const store = createOutpostStore({ api, storage, refreshDelayMs: 10 });
  return { api, store, storage };
}

const record = (phase: DeployRecord['phase'], id = 'r1'): DeployRecord => ({
  id,
  deviceId: 'd1',
  service: 'ticker',
  image: 'busybox',
  imageId: 'sha256:1',
  previousDeployId: null,
  rollbackOf: null,
  previousImageId: null,
  phase,
  message: '',
  bytesSent: 0,
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('workloads slice', () => {
  it('keeps each device’s answer: a dead device is listed with its error beside the healthy one', async () => {
    const { api, store } = setup();
    api.answer('workloads:ps', [
      { deviceId: 'd1', deviceName: 'gw-1', ok: true, value: [ticker] },
      { deviceId: 'd2', deviceName: 'gw-2', ok: false, error: { kind: 'unreachable', message: 'gw-2 is unreachable' } },
    ]);
    await store.getState().loadContainers(['d1', 'd2']);
    const containers = store.getState().containers;
    expect(containers.map((c) => [c.deviceName, c.ok, c.error?.kind ?? null])).toEqual([
      ['gw-1', true, null],
      ['gw-2', false, 'unreachable'],
    ]);
    expect(store.getState().containersLoading).toBe(false);
  });

  it('sends the technician’s link override with every call, and nothing once it is cleared', async () => {
    const storage = memoryStorage();
    const { api, store } = setup(storage);
    api.answer('workloads:ps', []);
    store.getState().setLinkOverride({ identityFile: '/keys/site', user: 'pi' });
    await store.getState().loadContainers(['d1']);
    expect(api.calls.at(-1)?.args).toMatchObject({ link: { identityFile: '/keys/site', user: 'pi' } });

    store.getState().setLinkOverride({});
    await store.getState().loadContainers(['d1']);
    expect(api.calls.at(-1)?.args).toMatchObject({ link: {} });
    // The override is for this session's runs only: nothing of it is kept on disk.
    expect(JSON.stringify([...storage.data.keys()])).not.toContain('link');
  });

  it('delivers stream lines that arrived before workloads:follow answered, and only its own', async () => {
    const { api, store } = setup();
    // The core's first lines overtake its answer.
    api.answer('workloads:follow', () => {
      api.emit('workloads:stream', { streamId: 's1', deviceId: 'd1', kind: 'logs', data: 'tick 1\n' });
      api.emit('workloads:stream', { streamId: 's0', deviceId: 'd1', kind: 'logs', data: 'someone else\n' });
      return { streamId: 's1' };
    });
    api.answer('workloads:unfollow', { stopped: true });
    const seen: string[] = [];
    let ended = false;
    const stop = await store.getState().followStream({ device: 'd1', kind: 'logs', container: 'c1' }, (t) => seen.push(t), () => (ended = true));
    api.emit('workloads:stream', { streamId: 's1', deviceId: 'd1', kind: 'logs', data: 'tick 2\n' });
    api.emit('workloads:stream', { streamId: 's1', deviceId: 'd1', kind: 'logs', data: '', end: true });
    expect(seen).toEqual(['tick 1\n', 'tick 2\n']);
    expect(ended).toBe(true);
    stop();
    api.emit('workloads:stream', { streamId: 's1', deviceId: 'd1', kind: 'logs', data: 'after stop\n' });
    expect(seen).toHaveLength(2);
    expect(api.calls.at(-1)).toEqual({ channel: 'workloads:unfollow', args: { streamId: 's1' } });
  });

  it('follows transfer progress and rollout steps while a deploy runs', () => {
    const { api, store } = setup();
    const off = store.getState().followWorkloads();
    api.emit('workloads:progress', { deviceId: 'd1', phase: 'staging', bytesSent: 10, bytesTotal: 100, bytesPerSecond: 5, etaSeconds: 18 });
    api.emit('workloads:progress', { deviceId: 'd1', phase: 'staging', bytesSent: 50, bytesTotal: 100, bytesPerSecond: 5, etaSeconds: 10 });
    api.emit('workloads:rollout', record('started'));
    api.emit('workloads:rollout', record('healthy'));
    expect(store.getState().transfers.d1?.bytesSent).toBe(50);
    expect(store.getState().rolloutSteps.map((s) => s.phase)).toEqual(['started', 'healthy']);
    off();
    api.emit('workloads:rollout', record('done'));
    expect(store.getState().rolloutSteps).toHaveLength(2);
  });

  it('lists services left mid-rollout, refreshes them when a step is announced, and reconciles a device', async () => {
    const { api, store } = setup();
    const left = { deviceId: 'd1', deviceName: 'gw-1', service: 'ticker', record: record('failed'), inProgress: false, devicePhase: 'rolling-back' as const, resolution: 'undo' as const, lastError: 'engine down' };
    let pending = [left];
    api.answer('workloads:pending', () => pending);
    api.answer('workloads:history', []);
    api.answer('workloads:reconcile', () => {
      pending = [];
      return [record('rolled-back')];
    });
    const off = store.getState().followWorkloads();
    await vi.waitFor(() => expect(store.getState().pendingRollouts).toEqual([left]));
    const records = await store.getState().reconcile('d1', 'gw-1');
    expect(records?.map((r) => r.phase)).toEqual(['rolled-back']);
    expect(api.argsOf('workloads:reconcile')).toEqual([{ device: 'd1', link: {} }]);
    expect(store.getState().pendingRollouts).toEqual([]);
    expect(store.getState().reconciling).toEqual([]);
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'success', title: 'Reconciled gw-1', message: 'ticker: undone' });
    // Reconcile that ran by itself (on reconnect) announces its steps: the banner follows.
    pending = [left];
    api.emit('workloads:rollout', record('failed'));
    await vi.waitFor(() => expect(store.getState().pendingRollouts).toEqual([left]));
    off();
  });

  it('reports a failed deploy device by device, with each error kind', async () => {
    const { api, store } = setup();
    api.answer('workloads:deploy', {
      plan: { services: [], applied: [], devices: [] },
      results: [{ deviceId: 'd2', deviceName: 'gw-2', ok: false, error: { kind: 'timeout', message: 'health gate timed out' } }],
    });
    api.answer('workloads:history', []);
    await store.getState().deploy({ devices: ['d2'], composeText: 'services: {}', composePath: '' });
    expect(api.calls.find((c) => c.channel === 'workloads:deploy')?.args).toMatchObject({ compose: { text: 'services: {}' } });
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'error', title: 'Deploy failed on gw-2', kind: 'timeout' });
    expect(store.getState().deploying).toBe(false);
  });

  it('updates a rollout step in place when the same phase comes again', () => {
    const steps = mergeRolloutStep([record('started')], { ...record('started'), message: 'again' });
    expect(steps).toHaveLength(1);
    expect(steps[0]?.message).toBe('again');
  });
});
