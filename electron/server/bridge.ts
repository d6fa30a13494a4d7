import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ClientFrame, API_PATH, TOKEN_COOKIE, type ServerFrame } from '../../shared/transport/ws-protocol';
import type { Core } from '../core/app';
import { OwnedSessions } from '../core/sessions/owned-sessions';
import { resolveRendererFile } from './static-files';

export interface BridgeOptions {
  core: Core;
  /** Folder holding the built renderer (index.html and assets). */
  staticDir: string;
  port?: number;
  token?: string;
}

export interface Bridge {
  url: string;
  urlWithToken: string;
  token: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}


function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return v.join('=');
  }
  return undefined;
}

/**
 * Browser mode: serves the built renderer and the Api over a WebSocket on 127.0.0.1 only. A random token per
 * launch is required (query on first load, then an HttpOnly SameSite=Strict cookie); requests without it get
 * 401; a Host header other than our own (DNS rebinding) and WebSocket upgrades from a foreign Origin are refused.
 */
export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const root = resolve(opts.staticDir);
  let port = 0;

  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((h) => `http://${h}`);

  const server = createServer((req, res) => handleHttp(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });

  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong host');
      return;
    }
    const queryToken = url.searchParams.get('token') ?? undefined;
    if (sameToken(queryToken, token)) {
      // Trade the token in the URL for a cookie, so it does not linger in history or get copied around.
      url.searchParams.delete('token');
      res.writeHead(303, {
        location: url.pathname + (url.search || ''),
        'set-cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
      res.end();
      return;
    }
    if (!sameToken(cookieToken(req), token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end('Outpost: open the URL printed at start-up (it carries the access token).\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    serveStatic(url.pathname, res);
  }

  function serveStatic(pathname: string, res: ServerResponse): void {
    const found = resolveRendererFile(root, pathname);
    if (found.status !== 200) {
      res.writeHead(found.status, { 'content-type': 'text/plain; charset=utf-8' }).end(found.message);
      return;
    }
    res.writeHead(200, found.headers);
    createReadStream(found.file).pipe(res);
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const reject = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (url.pathname !== API_PATH || !allowedHosts().includes(req.headers.host ?? '')) return reject(404, 'Not Found');
    // Non-browser clients (CLI, tests) send no Origin; a browser always does, and it must be ours.
    if (origin !== undefined && !allowedOrigins().includes(origin)) return reject(403, 'Forbidden');
    if (!sameToken(url.searchParams.get('token') ?? cookieToken(req), token)) return reject(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  function serveSocket(ws: WebSocket): void {
    const send = (frame: ServerFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    const unsubscribe = opts.core.bus.subscribe((event, payload) => send({ t: 'event', event, payload }));
    // A tab closed or reloaded mid-session must not leave its shells running on the devices.
    const sessions = new OwnedSessions((channel, args) => opts.core.router.dispatch(channel, args));
    ws.on('close', () => {
      unsubscribe();
      void sessions.closeAll();
    });
    ws.on('message', (data) => {
      let frame: ClientFrame;
      try {
        frame = ClientFrame.parse(JSON.parse(String(data)));
      } catch {
        send({ t: 'result', id: -1, envelope: { error: { kind: 'protocol', message: 'malformed frame' } } });
        return;
      }
      void sessions.dispatch(frame.channel, frame.args).then((envelope) => send({ t: 'result', id: frame.id, envelope }));
    });
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    urlWithToken: `${url}?token=${token}`,
    token,
    port,
    server,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
