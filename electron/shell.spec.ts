import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCore, type Core } from './core/app';

// A stubbed `electron` module: the binary cannot be downloaded on build machines, so the three shell files
// are exercised against recording fakes of the few Electron APIs they touch.
const stub = vi.hoisted(() => {
  const handlers = new Map<string, (...args: unknown[]) => unknown>();
  const rendererListeners = new Map<string, Array<(...args: unknown[]) => void>>();
  const exposed: Record<string, unknown> = {};
  return { handlers, rendererListeners, exposed, invokeTarget: { current: undefined as undefined | ((channel: string, ...args: unknown[]) => Promise<unknown>) } };
});

vi.mock('electron', () => ({
  app: { whenReady: () => Promise.resolve(), on: vi.fn(), quit: vi.fn() },
  BrowserWindow: Object.assign(vi.fn(), { getAllWindows: () => [] }),
  session: {},
  shell: { openExternal: vi.fn(() => Promise.resolve()) },
  ipcMain: {
    handle: (channel: string, fn: (...args: unknown[]) => unknown) => stub.handlers.set(channel, fn),
    removeHandler: (channel: string) => stub.handlers.delete(channel),
  },
  ipcRenderer: {
    invoke: (channel: string, ...args: unknown[]) => stub.invokeTarget.current!(channel, ...args),
    on: (channel: string, fn: (...args: unknown[]) => void) => stub.rendererListeners.set(channel, [...(stub.rendererListeners.get(channel) ?? []), fn]),
    removeListener: (channel: string, fn: (...args: unknown[]) => void) =>
      stub.rendererListeners.set(channel, (stub.rendererListeners.get(channel) ?? []).filter((f) => f !== fn)),
  },
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (stub.exposed[key] = value) },
}));

const { hardenContents, windowOptions } = await import('./main');
const { registerIpc, INVOKE_CHANNEL, EVENT_CHANNEL } = await import('./ipc');
const { ipcMain } = await import('electron');

let core: Core | undefined;
afterEach(async () => {
  await core?.close();
  core = undefined;
  stub.handlers.clear();
});

function newCore(): Core {
  return createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-shell-')), transport: 'electron' });
}

describe('main window', () => {
  it('keeps contextIsolation and sandbox on and nodeIntegration off', () => {
    const prefs = windowOptions('/x/preload.cjs').webPreferences!;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, preload: '/x/preload.cjs' });
  });

  it('blocks navigation away from the bundle, new windows and webviews', () => {
    const listeners = new Map<string, (event: { preventDefault: () => void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    const contents = {
      on: (name: string, fn: (event: { preventDefault: () => void }, url?: string) => void) => listeners.set(name, fn),
      setWindowOpenHandler: (fn: (d: { url: string }) => { action: string }) => (openHandler = fn),
    };
    hardenContents(contents as never);
    const prevented = vi.fn();
    listeners.get('will-navigate')!({ preventDefault: prevented }, 'https://evil.example/');
    expect(prevented).toHaveBeenCalledTimes(1);
    listeners.get('will-navigate')!({ preventDefault: prevented }, 'file:///app/index.html');
    expect(prevented).toHaveBeenCalledTimes(1);
    expect(openHandler!({ url: 'https://example.com' }).action).toBe('deny');
    listeners.get('will-attach-webview')!({ preventDefault: prevented });
    expect(prevented).toHaveBeenCalledTimes(2);
  });
});

describe('ipc', () => {
  it('dispatches calls from our own page to the core and refuses other senders', async () => {
    core = newCore();
    registerIpc(ipcMain, core, () => []);
    const handler = stub.handlers.get(INVOKE_CHANNEL)!;
    const ours = { senderFrame: { url: 'file:///app/index.html' } };
    const info = (await handler(ours, 'app:info', {})) as { result: { dataDir: string } };
    expect(info.result.dataDir).toBe(core.config.dataDir);
    expect(await handler({ senderFrame: { url: 'https://evil.example/' } }, 'app:info', {})).toEqual({
      error: { kind: 'auth', message: expect.stringContaining('only from the Outpost window') },
    });
    expect(await handler(ours, 'shell:exec', {})).toMatchObject({ error: { kind: 'not-found' } });
    expect(await handler(ours, 'devices:add', { host: 'bad host;rm' })).toMatchObject({ error: { kind: 'invalid-input' } });
  });

  it('closes the terminal sessions of a window that is destroyed', async () => {
    core = newCore();
    const closed: unknown[] = [];
    const dispatch = core.router.dispatch.bind(core.router);
    core.router.dispatch = async (channel: string, args: unknown) => {
      if (channel === 'sessions:open') return { result: { sessionId: 'term-1', windowBytes: 1024 } };
      if (channel === 'sessions:close') closed.push(args);
      return dispatch(channel, args);
    };
    registerIpc(ipcMain, core, () => []);
    const handler = stub.handlers.get(INVOKE_CHANNEL)!;
    const onDestroyed: Array<() => void> = [];
    const sender = { once: (event: string, fn: () => void) => event === 'destroyed' && onDestroyed.push(fn) };
    const event = { senderFrame: { url: 'file:///app/index.html' }, sender };
    expect(await handler(event, 'sessions:open', { kind: 'ssh-shell', device: 'd', cols: 80, rows: 24 })).toMatchObject({ result: { sessionId: 'term-1' } });
    await handler(event, 'app:info', {});
    expect(onDestroyed).toHaveLength(1);
    onDestroyed[0]!();
    await vi.waitFor(() => expect(closed).toEqual([{ sessionId: 'term-1' }]));
  });

  it('forwards core events to every live window', async () => {
    core = newCore();
    const sent: unknown[][] = [];
    const win = { isDestroyed: () => false, send: (...args: unknown[]) => sent.push(args) };
    const unregister = registerIpc(ipcMain, core, () => [win as never]);
    await core.router.dispatch('devices:add', { host: '10.1.2.3' });
    expect(sent).toEqual([[EVENT_CHANNEL, 'devices:changed', { ids: [expect.any(String)] }]]);
    unregister();
    expect(stub.handlers.has(INVOKE_CHANNEL)).toBe(false);
  });
});

describe('preload', () => {
  it('exposes only invoke and on, re-throwing error envelopes with their kind', async () => {
    core = newCore();
    registerIpc(ipcMain, core, () => []);
    stub.invokeTarget.current = (channel, ...args) => Promise.resolve(stub.handlers.get(channel)!({ senderFrame: { url: 'file:///i.html' } }, ...args));
    await import('./preload');
    const outpost = stub.exposed.outpost as { invoke: (c: string, a?: unknown) => Promise<unknown>; on: unknown };
    expect(Object.keys(outpost).sort()).toEqual(['invoke', 'on']);
    await expect(outpost.invoke('app:info', {})).resolves.toMatchObject({ name: 'Outpost' });
    await expect(outpost.invoke('devices:get', { id: 'nope' })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(outpost.invoke('ipcRenderer:send')).rejects.toMatchObject({ kind: 'not-found' });
  });
});
