import type { Api } from '../../shared/contract';
import { bridgeSocketUrl, createWsApi } from '../../shared/transport/ws-client';

declare global {
  interface Window {
    /** The typed Api: provided by the Electron preload, or created here in browser mode. */
    outpost?: Api;
  }
}

export type TransportName = 'electron' | 'browser';

/**
 * In Electron the preload has already put the Api on `window.outpost`. In browser mode the page was served by
 * the bridge, whose HttpOnly cookie authenticates the WebSocket, so no token goes into the socket URL.
 */
export function resolveApi(): { api: Api; transport: TransportName } {
  if (window.outpost) return { api: window.outpost, transport: 'electron' };
  const api = createWsApi(new WebSocket(bridgeSocketUrl(window.location.href)));
  window.outpost = api;
  return { api, transport: 'browser' };
}
