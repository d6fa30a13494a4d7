import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Api, AppInfo, ArgsOf, ChannelName, Device, EventName, PayloadOf, ResultOf } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';
import { connectStore, createOutpostStore, type KeyValueStorage } from './index';
import { COLOR_SCHEME_KEY } from './ui-slice';

function device(id: string, name = id): Device {
  return {
    id,
    name,
    hostnames: [],
    addresses: ['10.0.0.1'],
    macs: [],
    sources: ['manual'],
    services: [],
    ssh: { port: 22, user: 'root' },
    docker: null,
    serialPath: null,
    tags: {},
    notes: '',
    state: 'unknown',
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:00.000Z',
  };
}

const info: AppInfo = { name: 'Outpost', version: '0.1.0', dataDir: '/tmp/outpost', online: false, platform: 'linux-x64', transport: 'browser' };

/** A fake Api: handlers per channel, and `emit` to play the core's events. Records every call. */
class FakeApi implements Api {
  calls: Array<{ channel: ChannelName; args: unknown }> = [];
  inventory: Device[] = [device('a')];
  failNext: OutpostError | null = null;
  private listeners = new Map<EventName, Set<(payload: never) => void>>();

  async invoke<C extends ChannelName>(channel: C, args?: ArgsOf<C>): Promise<ResultOf<C>> {
    this.calls.push({ channel, args });
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = null;
      throw err;
    }
    const answers: { [K in ChannelName]?: () => unknown } = {
      'app:info': () => info,
      'devices:list': () => [...this.inventory],
      'devices:add': () => device('new', 'new-device'),
      'devices:remove': () => ({ removed: true }),
    };
    const answer = answers[channel];
    if (!answer) throw new OutpostError('unsupported', `fake has no ${channel}`);
    return answer() as ResultOf<C>;
  }

  on<E extends EventName>(event: E, listener: (payload: PayloadOf<E>) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (payload: never) => void);
    this.listeners.set(event, set);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends EventName>(event: E, payload: PayloadOf<E>): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (p: PayloadOf<E>) => void)(payload);
  }

  count(channel: ChannelName): number {
    return this.calls.filter((c) => c.channel === channel).length;
  }
}

function memoryStorage(initial: Record<string, string> = {}): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial));
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
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
    api.failNext = new OutpostError('invalid-input', 'give a host (name or IP) or a serial path');
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
