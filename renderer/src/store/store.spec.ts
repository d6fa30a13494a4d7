import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppInfo, ChannelName, Device } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { connectStore, createOutpostStore } from './index';
import { memoryStorage, ScriptedApi, testDevice } from './scripted-api';
import { COLOR_SCHEME_KEY } from './ui-slice';

const device = (id: string, name = id): Device => testDevice(id, { name, addresses: ['10.0.0.1'] });

const info: AppInfo = { name: 'Outpost', version: '0.1.0', dataDir: '/tmp/outpost', online: false, platform: 'linux-x64', transport: 'browser' };

/** The core as the store sees it: app info, an inventory a case can change, adds and removes. Records every call. */
class FakeApi extends ScriptedApi {
  inventory: Device[] = [device('a')];

  constructor() {
    super();
    this.answer('app:info', info)
      .answer('devices:list', () => [...this.inventory])
      .answer('devices:add', () => device('new', 'new-device'))
      .answer('devices:remove', { removed: true })
      .answer('latency:list', []);
  }

  count(channel: ChannelName): number {
    return this.argsOf(channel).length;
  }
}

describe('outpost store', () => {
  let api: FakeApi;
  beforeEach(() => {
    vi.useFakeTimers();
    api = new FakeApi();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(storage = memoryStorage()) {
    const store = createOutpostStore({ api, storage, refreshDelayMs: 100 });
    const disconnect = connectStore(store, { api });
    return { store, disconnect };
  }

  it('loads app info and the inventory when connected', async () => {
    const { store } = setup();
    await vi.runAllTimersAsync();
    expect(store.getState().info).toEqual(info);
    expect(store.getState().devices.map((d) => d.id)).toEqual(['a']);
    expect(store.getState().devicesLoading).toBe(false);
  });

  it('collects a burst of devices:changed events into one re-fetch after the quiet period', async () => {
    const { store } = setup();
    await vi.runAllTimersAsync();
    expect(api.count('devices:list')).toBe(1);

    api.inventory = [device('a'), device('b'), device('c')];
    for (const id of ['b', 'c', 'b']) {
      api.emit('devices:changed', { ids: [id] });
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(api.count('devices:list')).toBe(1);

    await vi.advanceTimersByTimeAsync(100);
    expect(api.count('devices:list')).toBe(2);
    expect(store.getState().devices.map((d) => d.id)).toEqual(['a', 'b', 'c']);
  });

  it('stops following events and drops a pending re-fetch once disconnected', async () => {
    const { disconnect } = setup();
    await vi.runAllTimersAsync();
    api.emit('devices:changed', { ids: ['a'] });
    disconnect();
    api.emit('devices:changed', { ids: ['a'] });
    await vi.runAllTimersAsync();
    expect(api.count('devices:list')).toBe(1);
  });

  it('follows app:online-changed', async () => {
    const { store } = setup();
    await vi.runAllTimersAsync();
    api.emit('app:online-changed', { online: true });
    expect(store.getState().info?.online).toBe(true);
  });

  it('shows a failed call as a notice with the error kind and message', async () => {
    const { store } = setup();
    await vi.runAllTimersAsync();
    api.answer('devices:add', new OutpostError('invalid-input', 'give a host (name or IP) or a serial path'));
    const added = await store.getState().addDevice({ name: 'x' });
    expect(added).toBeNull();
    expect(store.getState().notices).toMatchObject([
      { tone: 'error', title: 'Could not add the device', kind: 'invalid-input', message: 'give a host (name or IP) or a serial path' },
    ]);
    store.getState().dismissNotice(store.getState().notices[0].id);
    expect(store.getState().notices).toEqual([]);
  });

  it('sends the form input to devices:add and confirms', async () => {
    const { store } = setup();
    await vi.runAllTimersAsync();
    const added = await store.getState().addDevice({ name: 'new-device', host: '10.0.0.9' });
    expect(added?.name).toBe('new-device');
    expect(api.calls.at(-1)).toEqual({ channel: 'devices:add', args: { name: 'new-device', host: '10.0.0.9' } });
    expect(store.getState().notices.at(-1)).toMatchObject({ tone: 'success', message: 'new-device' });
  });

  it('navigates, and keeps the colour scheme across launches', () => {
    const storage = memoryStorage({ [COLOR_SCHEME_KEY]: 'dark' });
    const { store } = setup(storage);
    expect(store.getState().view).toBe('devices');
    store.getState().navigate('latency');
    expect(store.getState().view).toBe('latency');

    expect(store.getState().colorScheme).toBe('dark');
    store.getState().toggleColorScheme();
    expect(store.getState().colorScheme).toBe('light');
    expect(storage.data.get(COLOR_SCHEME_KEY)).toBe('light');
  });
});
