import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { isChannelName } from '../shared/contract';
import type { Envelope } from '../shared/errors';
import type { Core } from './core/app';
import { isRendererUrl } from './core/csp';
import { OwnedSessions } from './core/sessions/owned-sessions';

export const INVOKE_CHANNEL = 'outpost:invoke';
export const EVENT_CHANNEL = 'outpost:event';
/** The one desktop-only call: the OS "save as" dialog, for files the core then writes (the support bundle). */
export const SAVE_PATH_CHANNEL = 'outpost:save-path';

/** Asks the technician where to save a file; null when the dialog was cancelled. */
export type ChooseSavePath = (sender: IpcMainInvokeEvent['sender'] | undefined, suggestedName: string) => Promise<string | null>;

/** A suggested file name from the page: a bare name of plain characters, never a path. */
export function safeFileName(name: unknown): string {
  const base = typeof name === 'string' ? (name.split(/[\\/]/).pop() ?? '') : '';
  const clean = base.replace(/[^A-Za-z0-9._@-]+/g, '_').replace(/^\.+/, '').slice(0, 200);
  return clean || 'outpost-file';
}

/** Only our own renderer (the bundled page on app://outpost) may call the core; file:// pages are not ours. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>): boolean {
  return isRendererUrl(event.senderFrame?.url ?? '');
}

/**
 * Electron's transport: one invoke handler that hands every call to the core's router (which validates it
 * against the contract), and one event pipe that forwards the core's events to every window.
 */
export function registerIpc(ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>, core: Core, windows: () => WebContents[], chooseSavePath?: ChooseSavePath): () => void {
  // Per window: the terminal sessions it opened, closed when the window goes away.
  const owners = new WeakMap<object, OwnedSessions>();
  const ownerOf = (sender: IpcMainInvokeEvent['sender'] | undefined): OwnedSessions => {
    const key = sender ?? core;
    let owned = owners.get(key);
    if (!owned) {
      const created = new OwnedSessions((channel, args) => core.router.dispatch(channel, args));
      owned = created;
      owners.set(key, created);
      sender?.once?.('destroyed', () => void created.closeAll());
    }
    return owned;
  };
  ipcMain.handle(INVOKE_CHANNEL, async (event, channel: unknown, args: unknown): Promise<Envelope<unknown>> => {
    if (!isTrustedSender(event)) return { error: { kind: 'auth', message: 'calls are accepted only from the Outpost window' } };
    if (!isChannelName(channel)) return { error: { kind: 'not-found', message: `no such command: ${String(channel)}` } };
    return ownerOf(event.sender).dispatch(channel, args);
  });
  ipcMain.handle(SAVE_PATH_CHANNEL, async (event, suggestedName: unknown): Promise<Envelope<{ path: string | null }>> => {
    if (!isTrustedSender(event)) return { error: { kind: 'auth', message: 'calls are accepted only from the Outpost window' } };
    if (!chooseSavePath) return { error: { kind: 'unsupported', message: 'no save dialog in this window' } };
    return { result: { path: await chooseSavePath(event.sender, safeFileName(suggestedName)) } };
  });
  const unsubscribe = core.bus.subscribe((name, payload) => {
    for (const contents of windows()) if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL, name, payload);
  });
  return () => {
    unsubscribe();
    ipcMain.removeHandler(INVOKE_CHANNEL);
    ipcMain.removeHandler(SAVE_PATH_CHANNEL);
  };
}
