import { app, BrowserWindow, dialog, ipcMain, protocol, safeStorage, session, shell, type Dialog, type WebContents } from 'electron';
import { join } from 'node:path';
import { createCore, type Core } from './core/app';
import { defaultDataDir } from './core/config';
import { isRendererUrl, RENDERER_ORIGIN, RENDERER_SCHEME } from './core/csp';
import { rendererResponse } from './server/static-files';
import { registerIpc, type ChooseSavePath } from './ipc';
import type { SecretProtector } from './core/secrets/vault';

/**
 * The one window. Its options are written out at the constructor call (not built elsewhere) so that Electron's
 * security linter, Electronegativity, can read them (`npm test` runs it).
 */
export function createWindow(preloadPath: string): BrowserWindow {
  return new BrowserWindow({
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
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
      // a middle click on a link would otherwise open it in a new window (auxclick)
      disableBlinkFeatures: 'Auxclick',
    },
  });
}

/** Only plain http(s) links leave the app, to the OS browser; file:, smb:, custom schemes and the like never do. */
export function isWebLink(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

/** No navigation away from the bundled UI and no new windows; external http(s) links open in the OS browser. */
export function hardenContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isRendererUrl(url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (isWebLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** app://outpost is a standard, secure origin (like https), so the CSP's 'self' and the sandbox apply as on the web. */
export function registerRendererScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: RENDERER_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves the built renderer on app://outpost/ with the CSP header on every answer; nothing outside it. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(RENDERER_SCHEME, (request) => rendererResponse(rendererDir, request.url, RENDERER_ORIGIN));
}

/**
 * The OS keychain for the vault's "remember on this laptop": Electron's safeStorage, except Linux's `basic_text`
 * fallback (a hard-coded key, no keyring), which would be plain text in all but name.
 */
export function keychainProtector(storage: Pick<typeof safeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'> & { getSelectedStorageBackend?: () => string }, platform: NodeJS.Platform = process.platform): SecretProtector {
  return {
    isEncryptionAvailable: () => storage.isEncryptionAvailable() && !(platform === 'linux' && storage.getSelectedStorageBackend?.() === 'basic_text'),
    encryptString: (plain) => storage.encryptString(plain),
    decryptString: (blob) => storage.decryptString(blob),
  };
}

/** The OS "save as" dialog, over the window that asked, starting in the Downloads folder with the suggested name. */
export function saveDialog(dialogs: Pick<Dialog, 'showSaveDialog'>, windowOf: (sender: WebContents) => BrowserWindow | null, downloadsDir: string): ChooseSavePath {
  return async (sender, suggestedName) => {
    const options = { defaultPath: join(downloadsDir, suggestedName), filters: suggestedName.endsWith('.zip') ? [{ name: 'Zip archive', extensions: ['zip'] }] : [] };
    const owner = sender ? windowOf(sender as WebContents) : null;
    const r = owner ? await dialogs.showSaveDialog(owner, options) : await dialogs.showSaveDialog(options);
    return r.canceled || !r.filePath ? null : r.filePath;
  };
}

export async function start(dir: string = __dirname): Promise<{ core: Core; window: BrowserWindow }> {
  registerRendererScheme(); // must happen before the app is ready
  await app.whenReady();
  serveRenderer(join(dir, '..', 'dist', 'renderer'));
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const core = createCore({ dataDir: defaultDataDir(), transport: 'electron', protector: keychainProtector(safeStorage) });
  const window = createWindow(join(dir, 'preload.cjs'));
  hardenContents(window.webContents);
  const unregister = registerIpc(ipcMain, core, () => BrowserWindow.getAllWindows().map((w) => w.webContents), saveDialog(dialog, (c) => BrowserWindow.fromWebContents(c), app.getPath('downloads')));
  window.once('ready-to-show', () => window.show());
  await window.loadURL(`${RENDERER_ORIGIN}/index.html`);
  void core.loadAll();
  app.on('window-all-closed', () => {
    unregister();
    void core.close().then(() => app.quit());
  });
  return { core, window };
}

if (process.versions.electron && !process.env.VITEST) void start();
