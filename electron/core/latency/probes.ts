import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { OutpostError } from '../../../shared/errors';
import { elapsedMs } from './clock';

/** One measurement: the latency in ms, and for HTTP the time to first byte. */
export interface ProbeResult {
  ms: number;
  ttfbMs?: number;
}

/** Something that measures one target again and again; `run` settles within `timeoutMs` (a timeout is loss). */
export interface Probe {
  readonly method: string;
  run(timeoutMs: number): Promise<ProbeResult>;
  close(): void;
}

const timeoutError = (what: string, ms: number) => new OutpostError('timeout', `${what}: no answer within ${ms} ms`);

function connectError(what: string, err: NodeJS.ErrnoException): OutpostError {
  if (err instanceof OutpostError) return err;
  if (err.code === 'ECONNREFUSED') return new OutpostError('unreachable', `${what}: connection refused`);
  if (err.code === 'ETIMEDOUT') return new OutpostError('timeout', `${what}: timed out`);
  return new OutpostError('unreachable', `${what}: ${err.code ?? err.message}`);
}

/** TCP connect time: SYN out to the handshake's completion, as the kernel reports it to the socket. */
export function tcpProbe(host: string, port: number): Probe {
  const what = `tcp ${host}:${port}`;
  return {
    method: 'tcp connect from the laptop',
    run: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const t0 = process.hrtime.bigint();
        const socket = tcpConnect({ host, port, noDelay: true });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(timeoutError(what, timeoutMs));
        }, timeoutMs);
        socket.once('connect', () => {
          const ms = elapsedMs(t0);
          clearTimeout(timer);
          socket.destroy();
          resolve({ ms });
        });
        socket.once('error', (err) => {
          clearTimeout(timer);
          socket.destroy();
          reject(connectError(what, err));
        });
      }),
    close: () => undefined,
  };
}

// A probe only times the answer; reading more than this of a body would measure the download, not the service.
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * HTTP(S) GET on a fresh connection, as curl times it: TTFB is connect + request + the response's first bytes,
 * total is until the body ends. Certificates are not verified: the probe sends nothing secret and devices on a
 * site usually serve self-signed ones.
 */
export function httpProbe(url: { tls: boolean; host: string; port: number; path: string }): Probe {
  const what = `GET ${url.tls ? 'https' : 'http'}://${url.host}:${url.port}${url.path}`;
  return {
    method: 'HTTP GET from the laptop',
    run: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const t0 = process.hrtime.bigint();
        const opts = { host: url.host, port: url.port, path: url.path, method: 'GET', agent: false as const, headers: { 'user-agent': 'outpost-latency', connection: 'close' } };
        const onResponse = (res: IncomingMessage) => {
          const ttfbMs = elapsedMs(t0);
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > MAX_BODY_BYTES) res.destroy();
          });
          const done = () => {
            clearTimeout(timer);
            resolve({ ms: elapsedMs(t0), ttfbMs });
          };
          res.once('end', done);
          res.once('close', done);
          res.once('error', () => undefined);
        };
        const req = url.tls ? httpsRequest({ ...opts, rejectUnauthorized: false }, onResponse) : httpRequest(opts, onResponse);
        const timer = setTimeout(() => {
          req.destroy();
          reject(timeoutError(what, timeoutMs));
        }, timeoutMs);
        req.once('error', (err) => {
          clearTimeout(timer);
          reject(connectError(what, err));
        });
        req.end();
      }),
    close: () => undefined,
  };
}

/** Any measurement that is already a promise of elapsed ms (SSH ping, Docker /_ping), bounded by the timeout. */
export function callProbe(method: string, what: string, fn: (timeoutMs: number) => Promise<number>): Probe {
  return {
    method,
    run: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(timeoutError(what, timeoutMs)), timeoutMs);
        fn(timeoutMs).then(
          (ms) => {
            clearTimeout(timer);
            resolve({ ms });
          },
          (err: unknown) => {
            clearTimeout(timer);
            reject(err);
          },
        );
      }),
    close: () => undefined,
  };
}

/** A call timed around itself, for APIs that do not time themselves. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return elapsedMs(t0);
}

const PING_TIME = /time[=<]([\d.]+) ?ms/;

/**
 * ICMP echo through iputils `ping` (setuid or cap_net_raw, or unprivileged ICMP sockets where
 * net.ipv4.ping_group_range allows): the RTT is the kernel-stamped one ping prints.
 */
export function icmpProbe(host: string, pingPath = 'ping'): Probe {
  const what = `ping ${host}`;
  return {
    method: 'ICMP echo (iputils ping)',
    run: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const waitS = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
        execFile(pingPath, ['-n', '-c', '1', '-W', waitS, '--', host], { timeout: timeoutMs + 500 }, (err, stdout, stderr) => {
          const m = PING_TIME.exec(stdout);
          if (m) return resolve({ ms: Number(m[1]) });
          const e = err as (NodeJS.ErrnoException & { killed?: boolean }) | null;
          if (e?.code === 'ENOENT') return reject(new OutpostError('unsupported', `ICMP needs iputils ping on this laptop (${pingPath} not found)`));
          if (/permission|not permitted/i.test(stderr)) return reject(new OutpostError('unsupported', `ICMP not allowed for this user: ${stderr.trim()}`));
          reject(timeoutError(what, timeoutMs));
        });
      }),
    close: () => undefined,
  };
}

/**
 * MQTT publish → receive through a broker: one client subscribed to a topic of its own, each probe publishes a
 * sequence number (QoS 0) and times until the broker delivers it back.
 */
export function mqttProbe(url: string): Probe {
  const topic = `outpost/latency/${randomUUID()}`;
  const pending = new Map<string, (ms: number) => void>();
  let seq = 0;
  let client: MqttClient | null = null;
  let subscribed: Promise<void> | null = null;
  const ensure = (): Promise<void> => {
    if (!client) {
      const c = mqtt.connect(url, { reconnectPeriod: 1000, connectTimeout: 5000, clean: true, rejectUnauthorized: false, clientId: `outpost-latency-${randomUUID().slice(0, 8)}` });
      client = c;
      c.on('error', () => undefined);
      c.on('message', (_topic, payload) => pending.get(payload.toString())?.(0));
      subscribed = new Promise((resolve, reject) => {
        c.once('connect', () => c.subscribe(topic, { qos: 0 }, (err) => (err ? reject(err) : resolve())));
      });
      subscribed.catch(() => undefined);
    }
    return subscribed as Promise<void>;
  };
  const what = `mqtt ${url}`;
  return {
    method: 'MQTT publish → receive (QoS 0)',
    run: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const id = String(++seq);
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(timeoutError(what, timeoutMs));
        }, timeoutMs);
        ensure().then(
          () => {
            const c = client;
            if (!c?.connected) {
              clearTimeout(timer);
              pending.delete(id);
              reject(new OutpostError('unreachable', `${what}: not connected to the broker`));
              return;
            }
            const t0 = process.hrtime.bigint();
            pending.set(id, () => {
              const ms = elapsedMs(t0);
              clearTimeout(timer);
              pending.delete(id);
              resolve({ ms });
            });
            c.publish(topic, id, { qos: 0 });
          },
          (err: unknown) => {
            clearTimeout(timer);
            pending.delete(id);
            reject(connectError(what, err as NodeJS.ErrnoException));
          },
        );
      }),
    close: () => {
      pending.clear();
      client?.end(true);
      client = null;
    },
  };
}
