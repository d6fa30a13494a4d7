import { request } from 'node:http';
import { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Client } from 'ssh2';
import { sshFingerprint } from '../transport/fingerprint';
import { firstLine, sanitizeText } from './sanitize';

export interface SshIdentity {
  banner?: string;
  hostKeyFingerprint?: string;
  /** The raw public key blob, for pinning (never shown). */
  hostKey?: Buffer;
}

/** RFC 4253 allows 255 bytes for the identification line; a little slack for pre-banner lines. */
const SSH_BANNER_BYTES = 1024;

/**
 * Reads an SSH server's identification line and host key without logging in: ssh2 runs the key exchange and
 * our host verifier records the key and answers "no", so no credentials are ever offered.
 */
export function probeSsh(host: string, port: number, timeoutMs: number): Promise<SshIdentity> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const client = new Client();
    const head: Buffer[] = [];
    let headBytes = 0;
    const result: SshIdentity = {};
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const raw = Buffer.concat(head);
      const line = raw.toString('latin1').split('\n').find((l) => l.startsWith('SSH-'));
      if (line !== undefined) result.banner = firstLine(Buffer.from(line, 'latin1'), 255);
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end();
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      if (headBytes >= SSH_BANNER_BYTES) return;
      head.push(chunk.subarray(0, SSH_BANNER_BYTES - headBytes));
      headBytes += chunk.length;
    });
    socket.once('error', finish);
    socket.once('close', finish);
    client.on('error', finish);
    socket.connect({ host, port }, () => {
      try {
        client.connect({
          sock: socket,
          username: 'outpost-probe',
          readyTimeout: timeoutMs,
          hostVerifier: (key: Buffer) => {
            result.hostKey = Buffer.from(key);
            result.hostKeyFingerprint = sshFingerprint(key);
            setImmediate(finish);
            return false;
          },
        });
      } catch {
        finish();
      }
    });
  });
}

/**
 * A probe answers once: the first of verdict, error or deadline wins; then `release` frees its socket. The
 * deadline's verdict is `onTimeout`. (`release` runs only at settle time, after the caller created the socket.)
 */
function settleOnce<T>(resolve: (v: T) => void, timeoutMs: number, onTimeout: T, release: () => void): (v: T) => void {
  let settled = false;
  const done = (v: T) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    release();
    resolve(v);
  };
  const timer = setTimeout(() => done(onTimeout), timeoutMs);
  return done;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One bounded HTTP GET: at most `maxBytes` of body, aborted at the deadline. */
function httpGet(host: string, port: number, path: string, timeoutMs: number, maxBytes = 64 * 1024): Promise<HttpAnswer | undefined> {
  return new Promise((resolve) => {
    const done = settleOnce<HttpAnswer | undefined>(resolve, timeoutMs, undefined, () => req.destroy());
    const req = request({ host, port, path, method: 'GET', agent: false, headers: { 'user-agent': 'outpost-discovery', connection: 'close' }, maxHeaderSize: 16 * 1024 }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const answer = (): HttpAnswer => ({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      res.on('data', (c: Buffer) => {
        chunks.push(c.subarray(0, Math.max(0, maxBytes - bytes)));
        bytes += c.length;
        if (bytes >= maxBytes) done(answer());
      });
      res.on('end', () => done(answer()));
      res.on('error', () => done(undefined));
    });
    req.on('error', () => done(undefined));
    req.end();
  });
}

/** Docker Engine API version from `GET /version` on the plain-text port. */
export async function probeDockerVersion(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  const res = await httpGet(host, port, '/version', timeoutMs);
  if (!res || res.status !== 200) return undefined;
  try {
    const body = JSON.parse(res.body.toString('utf8')) as { ApiVersion?: unknown };
    return typeof body.ApiVersion === 'string' && /^\d+\.\d+$/.test(body.ApiVersion) ? body.ApiVersion : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a port speaks TLS (the Docker TLS port, MQTT over TLS): a completed handshake, or one refused for lack of a client certificate. */
export function probeTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = settleOnce<boolean>(resolve, timeoutMs, false, () => socket.destroy());
    // Identity is not checked here: this only asks "is it TLS?"; trust is settled when Outpost really connects.
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: undefined }, () => done(true));
    socket.on('error', (err: Error) => done(/alert|certificate|handshake failure/i.test(err.message)));
  });
}

/** MQTT 3.1.1 CONNECT with a clean session; any CONNACK (even "not authorised") proves a broker. */
export function probeMqtt(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = settleOnce<boolean>(resolve, timeoutMs, false, () => socket.destroy());
    const clientId = Buffer.from('outpost-probe');
    const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a]);
    const payload = Buffer.concat([Buffer.from([0x00, clientId.length]), clientId]);
    const connect = Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]);
    let got = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]).subarray(0, 16);
      if (got.length >= 4) done(got[0] === 0x20 && got[1] === 0x02);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.connect({ host, port }, () => socket.write(connect));
  });
}

/** The page title of a web UI (many gateways have one), sanitised. */
export async function probeHttpTitle(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  const res = await httpGet(host, port, '/', timeoutMs);
  if (!res) return undefined;
  const m = /<title[^>]*>([^<]{0,2000})<\/title>/i.exec(res.body.toString('utf8'));
  if (m?.[1]) return sanitizeText(m[1].replace(/\s+/g, ' '), 120);
  const server = res.headers.server;
  return typeof server === 'string' ? sanitizeText(server, 120) : undefined;
}
