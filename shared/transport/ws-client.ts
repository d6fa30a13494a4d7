import type { Api, EventName } from '../contract';
import { OutpostError, isErrorKind, unwrap } from '../errors';
import { API_PATH, type ServerFrame } from './ws-protocol';

/** The subset of the WebSocket interface the client needs; the browser's and the `ws` package's both fit. */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void;
}

export interface WsApi extends Api {
  close(): void;
  ready: Promise<void>;
}

/**
 * The browser-mode transport's calling side: the same Api as Electron's preload and the in-process client.
 * Requests in flight when the socket closes fail with kind `unreachable`.
 */
export function createWsApi(socket: SocketLike): WsApi {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  const ready = new Promise<void>((resolve, reject) => {
    if (socket.readyState === 1) resolve();
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new OutpostError('unreachable', 'could not connect to the Outpost bridge')));
  });
  ready.catch(() => undefined);

  socket.addEventListener('message', (ev) => {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(String(ev.data)) as ServerFrame;
    } catch {
      return;
    }
    if (frame.t === 'result') {
      const waiter = pending.get(frame.id);
      if (!waiter) return;
      pending.delete(frame.id);
      try {
        const envelope = frame.envelope;
        if ('error' in envelope && !isErrorKind(envelope.error.kind)) envelope.error.kind = 'internal';
        waiter.resolve(unwrap(envelope as Parameters<typeof unwrap>[0]));
      } catch (err) {
        waiter.reject(err as Error);
      }
    } else if (frame.t === 'event') {
      for (const listener of listeners.get(frame.event) ?? []) listener(frame.payload);
    }
  });
  socket.addEventListener('close', () => {
    for (const [, waiter] of pending) waiter.reject(new OutpostError('unreachable', 'the Outpost bridge closed the connection'));
    pending.clear();
  });

  return {
    ready,
    async invoke(channel, args) {
      await ready;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ t: 'invoke', id, channel, args }));
      });
    },
    on(event: EventName, listener: (payload: never) => void) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (payload: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    close() {
      socket.close();
    },
  };
}

export function bridgeSocketUrl(httpUrl: string, token?: string): string {
  const u = new URL(httpUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = API_PATH;
  u.search = token ? `?token=${encodeURIComponent(token)}` : '';
  return u.toString();
}
