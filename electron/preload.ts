import { contextBridge, ipcRenderer } from 'electron';
import { isChannelName, isEventName, type Api } from '../shared/contract';
import { OutpostError, unwrap, type Envelope } from '../shared/errors';

// Kept in step with ipc.ts; the sandboxed preload cannot import main-process modules.
const INVOKE_CHANNEL = 'outpost:invoke';
const EVENT_CHANNEL = 'outpost:event';
const SAVE_PATH_CHANNEL = 'outpost:save-path';

/** `window.outpostDesktop`: what only the desktop app has — the OS "save as" dialog. */
export const desktop = {
  async chooseSavePath(suggestedName: string): Promise<string | null> {
    const envelope = (await ipcRenderer.invoke(SAVE_PATH_CHANNEL, String(suggestedName))) as Envelope<{ path: string | null }>;
    return unwrap(envelope).path;
  },
};

/** `window.outpost`: named functions only; ipcRenderer itself never reaches the page. */
export const api: Api = {
  async invoke(channel, args) {
    if (!isChannelName(channel)) throw new OutpostError('not-found', `no such command: ${String(channel)}`);
    const envelope = (await ipcRenderer.invoke(INVOKE_CHANNEL, channel, args)) as Envelope<never>;
    return unwrap(envelope);
  },
  on(event, listener) {
    if (!isEventName(event)) throw new OutpostError('not-found', `no such event: ${String(event)}`);
    const handler = (_e: unknown, name: unknown, payload: unknown) => {
      if (name === event) listener(payload as never);
    };
    ipcRenderer.on(EVENT_CHANNEL, handler);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler);
    };
  },
};

contextBridge.exposeInMainWorld('outpost', { invoke: api.invoke, on: api.on });
contextBridge.exposeInMainWorld('outpostDesktop', { chooseSavePath: desktop.chooseSavePath });
