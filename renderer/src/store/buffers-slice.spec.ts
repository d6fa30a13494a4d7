import { describe, expect, it } from 'vitest';
import { cleanLinkOptions, type BufferScan, type DeviceFlush } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { partialFlushResults } from './buffers-slice';
import { connectStore, createOutpostStore } from './index';
import { memoryStorage, ScriptedApi } from './scripted-api';

const scan: BufferScan = { deviceId: 'gw', streams: [{ stream: 'temps', kind: 'spool', source: '/var/spool/outpost', segments: 2, bytes: 300, oldest: '2026-01-01T00:00:00.000Z' }], refused: [], missing: [] };
const flushed: DeviceFlush = { deviceId: 'gw', streams: { temps: { segments: 2, bytes: 300, duplicatesSkipped: 0, quarantined: 0 } }, refused: [], quarantined: [] };

function setup() {
  const api = new ScriptedApi()
    .answer('app:info', new OutpostError('unsupported', 'not here'))
    .answer('devices:list', [])
    .answer('buffers:scan', scan)
    .answer('store:list', { segments: [], totalBytes: 0, quotaBytes: null })
    .answer('upstream:status', { streams: [] });
  const store = createOutpostStore({ api, storage: memoryStorage(), refreshDelayMs: 0 });
  connectStore(store, { api });
  return { api, store };
}

describe('buffers slice', () => {
  it('scans devices with the technician’s link override, leaving empty fields to the device’s own settings', async () => {
    const { api, store } = setup();
    store.getState().setLinkOverride({ user: ' ', identityFile: '/keys/lab', acceptNewHostKey: false });
    await store.getState().scanBuffers(['gw']);
    expect(api.argsOf('buffers:scan')).toEqual([{ deviceId: 'gw', link: { identityFile: '/keys/lab' } }]);
    expect(store.getState().deviceBuffers.gw).toMatchObject({ status: 'ready', scan });
  });

  it('shows a failed scan on the device row with its kind', async () => {
    const { api, store } = setup();
    api.answer('buffers:scan', new OutpostError('auth', 'device 10.0.0.1 refused the key for user pi'));
    await store.getState().scanBuffers(['gw']);
    expect(store.getState().deviceBuffers.gw).toMatchObject({ status: 'error', error: { kind: 'auth' } });
  });

  it('follows flush:progress per device and stream, then keeps the results and refreshes scan, store and upstream', async () => {
    const { api, store } = setup();
    api.answer('buffers:flush', () => {
      api.emit('flush:progress', { deviceId: 'gw', stream: 'temps', bytesDone: 100, bytesTotal: 300, rate: 50, etaSeconds: 4 });
      api.emit('flush:progress', { deviceId: 'gw', stream: 'temps', bytesDone: 300, bytesTotal: 300, rate: 60, etaSeconds: 0 });
      expect(store.getState().flushing).toBe(true);
      return { devices: [flushed] };
    });
    const results = await store.getState().flushBuffers(['gw']);
    expect(results).toEqual([flushed]);
    expect(store.getState().flushProgress.gw?.temps).toMatchObject({ bytesDone: 300, etaSeconds: 0 });
    expect(store.getState().flushResults).toEqual([flushed]);
    expect(store.getState().flushing).toBe(false);
    expect(api.argsOf('buffers:flush')).toEqual([{ devices: ['gw'], link: {} }]);
    expect(api.argsOf('store:list').length).toBeGreaterThanOrEqual(1);
    expect(api.argsOf('upstream:status').length).toBeGreaterThanOrEqual(1);
  });

  it('keeps the partial results a failed flush carries, and reports the error', async () => {
    const { api, store } = setup();
    const failed: DeviceFlush = { ...flushed, deviceId: 'edge', streams: {}, error: { kind: 'unreachable', message: 'link down' } };
    api.answer('buffers:flush', new OutpostError('unreachable', 'edge: link down', { devices: [flushed, failed] }));
    const results = await store.getState().flushBuffers(['gw', 'edge']);
    expect(results).toEqual([flushed, failed]);
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'error', kind: 'unreachable' });
  });

  it('reads partial results only when they match the contract', () => {
    expect(partialFlushResults(new OutpostError('internal', 'x', { devices: [{ nope: 1 }] }))).toBeNull();
    expect(partialFlushResults(new Error('plain'))).toBeNull();
  });

  it('drops blank link options entirely', () => {
    expect(cleanLinkOptions({ user: ' ', identityFile: '' })).toEqual({});
    expect(cleanLinkOptions({ user: 'pi', port: 2222, acceptNewHostKey: true })).toEqual({ user: 'pi', port: 2222, acceptNewHostKey: true });
  });

  it('pushes upstream and shows the queue the core answers with', async () => {
    const { api, store } = setup();
    const stream = { target: 'http://u', deviceId: 'gw', stream: 'temps', status: 'forwarded' as const, segmentsPending: 0, recordsForwarded: 4, attempts: 1, nextAttemptAt: null, lastError: null };
    api.answer('upstream:push', { recordsForwarded: 4, segmentsForwarded: 2, streams: [stream] });
    await store.getState().pushUpstream({ http: { url: 'http://u' } });
    expect(store.getState().upstream).toEqual([stream]);
    expect(store.getState().pushing).toBe(false);
  });
});

describe('jobs and prune in the store', () => {
  it('follows jobs:changed and cancels a running flush by kind', async () => {
    const { api, store } = setup();
    api.answer('jobs:cancel', { cancelled: ['j1'] });
    const job = { id: 'j1', kind: 'flush' as const, label: 'flush of gw', deviceIds: ['gw'], startedAt: '2026-01-01T00:00:00.000Z', progress: null, cancelling: false };
    api.emit('jobs:changed', { jobs: [job] });
    expect(store.getState().jobs).toEqual([job]);
    await store.getState().cancelJobs({ kind: 'flush' });
    expect(api.argsOf('jobs:cancel')).toEqual([{ kind: 'flush' }]);
    api.emit('jobs:changed', { jobs: [] });
    expect(store.getState().jobs).toEqual([]);
  });

  it('previews a prune as a dry run, then confirms exactly that selection', async () => {
    const { api, store } = setup();
    const plan = { dryRun: true, segments: 2, bytes: 300, freedBytes: 300, keptSegments: 1, keptBytes: 10, groups: [], usedBytes: 310, quotaBytes: null };
    api.answer('store:prune', (args) => ({ ...plan, dryRun: Boolean(args?.dryRun), usedBytes: args?.dryRun ? 310 : 10 }));
    await store.getState().previewPrune({ deviceId: 'gw' });
    expect(store.getState().prunePlan?.result.segments).toBe(2);
    await store.getState().confirmPrune();
    expect(api.argsOf('store:prune')).toEqual([{ deviceId: 'gw', dryRun: true }, { deviceId: 'gw', dryRun: false }]);
    expect(store.getState().prunePlan).toBeNull();
  });
});
