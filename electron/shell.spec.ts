import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCore, type Core } from './core/app';

// A stubbed `electron` module: the binary cannot be downloaded on build machines, so the three shell files
// are exercised against recording fakes of the few Electron APIs they touch.
const stub = vi.hoisted(() => {
  const handlers = new Map<string, (...args: unknown[]) => unknown>();
  const rendererListeners = new Map<string, Array<(...args: unknown[]) => void>>();
  const exposed: Record<string, unknown> = {};
  const protocolHandlers = new Map<string, (request: { url: string }) => Promise<Response>>();
  const privileged: unknown[] = [];
  return { handlers, protocolHandlers, privileged, rendererListeners, exposed, invokeTarget: { current: undefined as undefined | ((channel: string, ...args: unknown[]) => Promise<unknown>) } };
});

vi.mock('electron', () => ({
  app: { whenReady: () => Promise.resolve(), on: vi.fn(), quit: vi.fn() },
  BrowserWindow: Object.assign(vi.fn(), { getAllWindows: () => [] }),
  session: {},
  dialog: {},
  protocol: {
    registerSchemesAsPrivileged: (schemes: unknown[]) => stub.privileged.push(...schemes),
    handle: (scheme: string, fn: (request: { url: string }) => Promise<Response>) => stub.protocolHandlers.set(scheme, fn),
  },
  safeStorage: { isEncryptionAvailable: () => true, encryptString: (s: string) => Buffer.from(s), decryptString: (b: Buffer) => b.toString() },
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

const { createWindow, hardenContents, isWebLink, keychainProtector, registerRendererScheme, saveDialog, serveRenderer } = await import('./main');
const { CONTENT_SECURITY_POLICY } = await import('./core/csp');
const { registerIpc, safeFileName, INVOKE_CHANNEL, EVENT_CHANNEL, SAVE_PATH_CHANNEL } = await import('./ipc');
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
  it('keeps contextIsolation and sandbox on and nodeIntegration off', async () => {
    createWindow('/x/preload.cjs');
    const { BrowserWindow } = await import('electron');
    const prefs = (vi.mocked(BrowserWindow).mock.calls.at(-1)![0] as { webPreferences: Record<string, unknown> }).webPreferences;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false, disableBlinkFeatures: 'Auxclick', preload: '/x/preload.cjs' });
  });

  it('sends only plain web links to the OS browser', () => {
    expect(isWebLink('https://docs.docker.com/engine/security/protect-access/')).toBe(true);
    for (const url of ['file:///etc/passwd', 'smb://host/share', 'javascript:alert(1)', 'https://user:pw@evil.example/', 'not a url', 'ms-msdt:/id']) {
      expect(isWebLink(url)).toBe(false);
    }
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
    listeners.get('will-navigate')!({ preventDefault: prevented }, 'app://outpost/index.html');
    expect(prevented).toHaveBeenCalledTimes(1);
    // a file:// page is not the bundle: any local HTML file could claim that
    listeners.get('will-navigate')!({ preventDefault: prevented }, 'file:///app/index.html');
    listeners.get('will-navigate')!({ preventDefault: prevented }, 'app://outpost.evil/index.html');
    expect(prevented).toHaveBeenCalledTimes(3);
    expect(openHandler!({ url: 'https://example.com' }).action).toBe('deny');
    listeners.get('will-attach-webview')!({ preventDefault: prevented });
    expect(prevented).toHaveBeenCalledTimes(4);
  });

  it('serves the bundle on app://outpost with the CSP header, and nothing outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-renderer-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Outpost</title>');
    writeFileSync(join(dirname(dir), 'secret.txt'), 'not for the renderer');
    registerRendererScheme();
    expect(stub.privileged).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    serveRenderer(dir);
    const handle = stub.protocolHandlers.get('app')!;
    const page = await handle({ url: 'app://outpost/index.html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('<title>Outpost</title>');
    for (const escape of ['app://outpost/..%2Fsecret.txt', 'app://outpost/%2e%2e/secret.txt', 'app://outpost/a/../../secret.txt']) {
      const r = await handle({ url: escape });
      expect(await r.text()).not.toContain('not for the renderer');
    }
    expect((await handle({ url: 'app://other/index.html' })).status).toBe(404);
    expect((await handle({ url: 'app://outpost/%00' })).status).toBe(400);
  });
});

describe('keychain', () => {
  it("hands safeStorage to the vault, but not Linux's basic_text fallback (no keyring behind it)", () => {
    const storage = (backend: string, available = true) => ({
      isEncryptionAvailable: () => available,
      encryptString: (s: string) => Buffer.from(`enc:${s}`),
      decryptString: (b: Buffer) => b.toString().replace(/^enc:/, ''),
      getSelectedStorageBackend: () => backend,
    });
    const gnome = keychainProtector(storage('gnome_libsecret'), 'linux');
    expect(gnome.isEncryptionAvailable()).toBe(true);
    expect(gnome.decryptString(gnome.encryptString('p'))).toBe('p');
    expect(keychainProtector(storage('basic_text'), 'linux').isEncryptionAvailable()).toBe(false);
    expect(keychainProtector(storage('unknown', false), 'darwin').isEncryptionAvailable()).toBe(false);
    expect(keychainProtector(storage('unknown'), 'darwin').isEncryptionAvailable()).toBe(true);
  });
});

describe('ipc', () => {
  it('dispatches calls from our own page to the core and refuses other senders', async () => {
    core = newCore();
    registerIpc(ipcMain, core, () => []);
    const handler = stub.handlers.get(INVOKE_CHANNEL)!;
    const ours = { senderFrame: { url: 'app://outpost/index.html' } };
    const info = (await handler(ours, 'app:info', {})) as { result: { dataDir: string } };
    expect(info.result.dataDir).toBe(core.config.dataDir);
    for (const url of ['https://evil.example/', 'file:///app/index.html', 'file:///tmp/downloaded.html']) {
      expect(await handler({ senderFrame: { url } }, 'app:info', {})).toEqual({
        error: { kind: 'auth', message: expect.stringContaining('only from the Outpost window') },
      });
    }
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
    const event = { senderFrame: { url: 'app://outpost/index.html' }, sender };
    expect(await handler(event, 'sessions:open', { kind: 'ssh-shell', device: 'd', cols: 80, rows: 24 })).toMatchObject({ result: { sessionId: 'term-1' } });
    await handler(event, 'app:info', {});
    expect(onDestroyed).toHaveLength(1);
    onDestroyed[0]!();
    await vi.waitFor(() => expect(closed).toEqual([{ sessionId: 'term-1' }]));
  });

  it('asks the save dialog for our own page only, with a bare file name, and says when the technician cancelled', async () => {
    core = newCore();
    const asked: string[] = [];
    const answers: Array<string | null> = ['/home/tech/Downloads/gw-1-support.zip', null];
    registerIpc(ipcMain, core, () => [], async (_sender, name) => {
      asked.push(name);
      return answers.shift() ?? null;
    });
    const handler = stub.handlers.get(SAVE_PATH_CHANNEL)!;
    const ours = { senderFrame: { url: 'app://outpost/index.html' } };
    expect(await handler(ours, 'gw-1-support.zip')).toEqual({ result: { path: '/home/tech/Downloads/gw-1-support.zip' } });
    expect(await handler(ours, '../../etc/passwd')).toEqual({ result: { path: null } });
    expect(asked).toEqual(['gw-1-support.zip', 'passwd']);
    expect(await handler({ senderFrame: { url: 'file:///tmp/x.html' } }, 'a.zip')).toMatchObject({ error: { kind: 'auth' } });
    expect(asked).toHaveLength(2);
    expect(safeFileName('gw 1; rm -rf.zip')).toBe('gw_1_rm_-rf.zip');
    expect(safeFileName('...')).toBe('outpost-file');
    expect(safeFileName(42)).toBe('outpost-file');
  });

  it('opens the OS save dialog over the asking window, in Downloads, and maps a cancel to null', async () => {
    const calls: unknown[][] = [];
    const win = { id: 1 };
    const dialogs = {
      showSaveDialog: (...args: unknown[]) => {
        calls.push(args);
        return Promise.resolve(calls.length === 1 ? { canceled: false, filePath: '/d/gw-1.zip' } : { canceled: true, filePath: '' });
      },
    };
    const choose = saveDialog(dialogs as never, () => win as never, '/home/tech/Downloads');
    expect(await choose({} as never, 'gw-1.zip')).toBe('/d/gw-1.zip');
    expect(calls[0]).toEqual([win, { defaultPath: '/home/tech/Downloads/gw-1.zip', filters: [{ name: 'Zip archive', extensions: ['zip'] }] }]);
    expect(await choose({} as never, 'gw-1.zip')).toBeNull();
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
  it('exposes only invoke and on (and the save dialog, apart), re-throwing error envelopes with their kind', async () => {
    core = newCore();
    registerIpc(ipcMain, core, () => []);
    stub.invokeTarget.current = (channel, ...args) => Promise.resolve(stub.handlers.get(channel)!({ senderFrame: { url: 'app://outpost/index.html' } }, ...args));
    await import('./preload');
    const outpost = stub.exposed.outpost as { invoke: (c: string, a?: unknown) => Promise<unknown>; on: unknown };
    expect(Object.keys(outpost).sort()).toEqual(['invoke', 'on']);
    expect(Object.keys(stub.exposed).sort()).toEqual(['outpost', 'outpostDesktop']);
    expect(Object.keys(stub.exposed.outpostDesktop as object)).toEqual(['chooseSavePath']);
    await expect(outpost.invoke('app:info', {})).resolves.toMatchObject({ name: 'Outpost' });
    await expect(outpost.invoke('devices:get', { id: 'nope' })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(outpost.invoke('ipcRenderer:send')).rejects.toMatchObject({ kind: 'not-found' });
  });
});
