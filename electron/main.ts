import { app, BrowserWindow, ipcMain, session, shell, type BrowserWindowConstructorOptions, type WebContents } from 'electron';
import { join } from 'node:path';
import { createCore, type Core } from './core/app';
import { defaultDataDir } from './core/config';
import { CONTENT_SECURITY_POLICY } from './core/csp';
import { registerIpc } from './ipc';

export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 900,
    minHeight: 600,
    title: 'Outpost',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  };
}

/** No navigation away from the bundled UI and no new windows; external http(s) links open in the OS browser. */
export function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith('file://')) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export async function start(dir: string = __dirname): Promise<{ core: Core; window: BrowserWindow }> {
  await app.whenReady();
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const core = createCore({ dataDir: defaultDataDir(), transport: 'electron' });
  const window = new BrowserWindow(windowOptions(join(dir, 'preload.cjs')));
  hardenContents(window.webContents);
  const unregister = registerIpc(ipcMain, core, () => BrowserWindow.getAllWindows().map((w) => w.webContents));
  window.once('ready-to-show', () => window.show());
  await window.loadFile(join(dir, '..', 'dist', 'renderer', 'index.html'));
  app.on('window-all-closed', () => {
    unregister();
    void core.close().then(() => app.quit());
  });
  return { core, window };
}

if (process.versions.electron && !process.env.VITEST) void start();
