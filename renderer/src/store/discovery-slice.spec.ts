import { describe, expect, it } from 'vitest';
import type { ScanResult } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { connectStore, createOutpostStore } from './index';
import { memoryStorage, ScriptedApi, testDevice } from './scripted-api';

const FP_OLD = `SHA256:${'A'.repeat(43)}`;
const FP_NEW = `SHA256:${'B'.repeat(43)}`;

const gw = testDevice('gw', { addresses: ['10.213.0.10'], sources: ['sweep'], ssh: { port: 22, user: 'root', hostKeyFingerprint: FP_NEW }, state: 'online' });

function setup() {
  const api = new ScriptedApi().answer('app:info', new OutpostError('unsupported', 'not here')).answer('devices:list', [gw]);
  const store = createOutpostStore({ api, storage: memoryStorage(), refreshDelayMs: 0 });
  connectStore(store, { api });
  return { api, store };
}

describe('discovery slice', () => {
  it('runs a scan, follows discovery:progress while it runs, and keeps the tally', async () => {
    const { api, store } = setup();
    let finish: (r: ScanResult) => void = () => undefined;
    api.answer('discovery:scan', () => new Promise<ScanResult>((resolve) => (finish = resolve)));
    const running = store.getState().runScan({ cidrs: ['10.213.0.0/24'] });
    expect(store.getState().scanning).toBe(true);
    api.emit('discovery:progress', { done: 128, total: 256 });
    expect(store.getState().scanProgress).toEqual({ done: 128, total: 256 });
    finish({ devices: [gw], mergedAway: [], stats: { hostsProbed: 256, probes: 1792, mdnsPackets: 3, elapsedMs: 2100 } });
    await running;
    expect(store.getState().scanning).toBe(false);
    expect(store.getState().lastScan).toMatchObject({ found: 1, hostsProbed: 256, mdnsPackets: 3 });
    expect(api.argsOf('discovery:scan')).toEqual([{ cidrs: ['10.213.0.0/24'] }]);
  });

  it('starts live discovery with the form settings, and warns once per reason when a re-sweep cannot run', async () => {
    const { api, store } = setup();
    api.answer('discovery:start', { running: true, interfaces: ['lab0'] });
    await store.getState().setLiveDiscovery(true, { interfaces: ['lab0'], cidrs: ['10.213.0.0/24'], sweepIntervalMs: 60_000 });
    expect(store.getState().liveDiscovery).toBe(true);
    expect(api.argsOf('discovery:start')).toEqual([{ interfaces: ['lab0'], cidrs: ['10.213.0.0/24'], sweepIntervalMs: 60_000 }]);
    api.emit('discovery:resweep-failed', { message: 'no interface lab0' });
    api.emit('discovery:resweep-failed', { message: 'no interface lab0' });
    expect(store.getState().notices.filter((n) => n.title === 'Live re-sweep skipped')).toHaveLength(1);
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'warning', message: 'no interface lab0' });
  });

  it('reads the offered key without pinning, then pins exactly the confirmed fingerprint', async () => {
    const { api, store } = setup();
    api.answer('trust:pin', (args) => ({ host: '10.213.0.10', port: 22, fingerprint: FP_NEW, pinned: args.fingerprint !== undefined, previous: FP_OLD }));
    api.answer('trust:list', [{ host: '10.213.0.10', port: 22, keyType: 'ssh-ed25519', fingerprint: FP_NEW, pinnedAt: '2026-01-01T00:00:00.000Z' }]);
    const check = await store.getState().checkHostKey(gw);
    expect(check).toEqual({ deviceId: 'gw', host: '10.213.0.10', port: 22, offered: FP_NEW, pinned: FP_OLD });
    expect(await store.getState().pinHostKey(gw, FP_NEW)).toBe(true);
    expect(api.argsOf('trust:pin')).toEqual([{ device: 'gw' }, { device: 'gw', fingerprint: FP_NEW }]);
    expect(store.getState().pinnedKeys.map((k) => k.fingerprint)).toEqual([FP_NEW]);
  });

  it('keeps the old and new fingerprints of a host-key-changed refusal for the loud alert', async () => {
    const { api, store } = setup();
    api.answer('trust:pin', new OutpostError('host-key-changed', 'offers B, not A', { host: '10.213.0.10', port: 22, expected: FP_OLD, actual: FP_NEW }));
    expect(await store.getState().pinHostKey(gw, FP_OLD)).toBe(false);
    expect(store.getState().hostKeyAlert).toEqual({ host: '10.213.0.10', port: 22, expected: FP_OLD, actual: FP_NEW });
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'error', kind: 'host-key-changed' });
  });

  it('saves edits through devices:update', async () => {
    const { api, store } = setup();
    api.answer('devices:update', (args) => ({ ...gw, name: args.name ?? gw.name, tags: args.tags ?? {} }));
    const saved = await store.getState().updateDevice({ id: 'gw', name: 'north-gw', tags: { site: 'north' } });
    expect(saved).toMatchObject({ name: 'north-gw', tags: { site: 'north' } });
  });
});
