import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { IClientOptions, MqttClient } from 'mqtt';
import { OutpostError } from '../../../../shared/errors';
import type { UpstreamRecord } from './records';

export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecure?: boolean;
}

/** An upstream that acknowledges records in order: MQTT (PUBACK) or HTTP (2xx). Outpost is only ever a client. */
export interface UpstreamTarget {
  readonly key: string;
  connect(): Promise<void>;
  /** Sends in order; `onAcked(n)` reports that the first n records are acknowledged. Rejects on any failure. */
  send(records: UpstreamRecord[], ids: string[], meta: { device: string; stream: string }, onAcked: (count: number) => void): Promise<void>;
  close(): Promise<void>;
}

function readTls(tls: TlsFiles | undefined): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean } {
  const read = (file: string | undefined, what: string): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new OutpostError('invalid-input', `cannot read the ${what} file ${file}: ${(err as Error).message}`);
    }
  };
  return { ca: read(tls?.caFile, 'CA'), cert: read(tls?.certFile, 'client certificate'), key: read(tls?.keyFile, 'client key'), rejectUnauthorized: !tls?.insecure };
}

/** TLS failures that retrying cannot fix: a certificate not trusted, expired, for another name, or refused. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Names what went wrong reaching an upstream: kind `auth` for a certificate problem on either side or a broker that
 * refused the credentials (the push stops at once: retrying cannot help), `unreachable` for everything else.
 */
export function upstreamError(url: string, err: unknown): OutpostError {
  if (err instanceof OutpostError) return err;
  const e = err as (Error & { code?: string | number }) | undefined;
  const message = e?.message ?? 'connection closed';
  const code = e?.code;
  if (typeof code === 'string' && TLS_TRUST_CODES.has(code)) {
    return new OutpostError('auth', `${url}: the server's certificate is not accepted (${code}: ${message}); check --ca, or the server's certificate`);
  }
  // The server's TLS alert when it refuses our client certificate, or wanted one and got none.
  if (/alert (certificate required|bad certificate|unknown ca|certificate expired|certificate unknown|handshake failure)|ERR_SSL_TLSV\d+_ALERT/i.test(`${message} ${String(code ?? '')}`)) {
    return new OutpostError('auth', `${url}: the server refused our client certificate (${message}); check --cert and --key, and that the site CA signed them`);
  }
  // MQTT CONNACK: v3.1.1 return codes 4/5, v5 reason codes 0x86/0x87.
  if (code === 4 || code === 5 || code === 134 || code === 135) return new OutpostError('auth', `${url}: the broker refused the connection: ${message}`);
  return new OutpostError('unreachable', `${url}: ${message}`);
}

/** QoS-1 publishing with a bounded window; a record counts as forwarded only once its PUBACK arrived. */
export class MqttTarget implements UpstreamTarget {
  readonly key: string;
  private client: MqttClient | null = null;
  private broken: ((err: Error) => void) | null = null;

  constructor(
    private readonly url: string,
    private readonly opts: { clientId?: string; username?: string; passwordFile?: string; tls?: TlsFiles; window?: number },
  ) {
    this.key = `mqtt:${url}`;
  }

  async connect(): Promise<void> {
    if (this.client?.connected) return;
    await this.close();
    const tls = readTls(this.opts.tls);
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: this.opts.clientId ?? `outpost-${process.pid}-${Date.now().toString(36)}`,
      clean: true,
      // Our own loop retries with backoff from the durable cursor; MQTT.js's silent reconnects would hide failures.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      username: this.opts.username,
      password: this.opts.passwordFile ? readFileSync(this.opts.passwordFile, 'utf8').trim() : undefined,
      ...tls,
    };
    // MQTT.js is loaded by the first push, not by every command that builds the buffers service (a flush).
    const { default: mqtt } = await import('mqtt');
    const client = mqtt.connect(this.url, options);
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      const fail = (err?: Error) => reject(upstreamError(`MQTT broker ${this.url}`, err));
      client.once('connect', () => resolve());
      client.once('error', fail);
      client.once('close', () => fail());
    });
    client.on('error', () => undefined);
    client.on('close', () => this.broken?.(new OutpostError('unreachable', `MQTT broker ${this.url} closed the connection`)));
  }

  send(records: UpstreamRecord[], ids: string[], _meta: { device: string; stream: string }, onAcked: (count: number) => void): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new OutpostError('unreachable', `not connected to ${this.url}`));
    // At most 64 unacknowledged: after a broken connection that many records may be sent twice (at-least-once).
    const window = this.opts.window ?? 64;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let next = 0;
      let inFlight = 0;
      let contiguous = 0;
      let refill: NodeJS.Immediate | null = null;
      const acked = new Uint8Array(records.length);
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        this.broken = null;
        reject(err);
      };
      this.broken = fail;
      const pump = () => {
        while (!settled && inFlight < window && next < records.length) {
          const i = next++;
          const record = records[i] as UpstreamRecord;
          inFlight++;
          client.publish(record.topic, record.payload, { qos: 1, properties: { userProperties: { 'outpost-record': ids[i] ?? '' } } }, (err) => {
            if (settled) return;
            if (err) return fail(new OutpostError('unreachable', `MQTT publish to ${this.url} failed: ${err.message}`));
            inFlight--;
            acked[i] = 1;
            while (contiguous < records.length && acked[contiguous]) contiguous++;
            onAcked(contiguous);
            if (contiguous === records.length) {
              settled = true;
              this.broken = null;
              resolve();
            } else if (!refill) {
              refill = setImmediate(() => {
                refill = null;
                pump();
              });
            }
          });
        }
      };
      if (records.length === 0) {
        settled = true;
        resolve();
      } else pump();
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }
}

/** POSTs batches of records as NDJSON; a batch is forwarded only on a 2xx answer. */
export class HttpTarget implements UpstreamTarget {
  readonly key: string;

  constructor(
    private readonly url: string,
    private readonly opts: { tls?: TlsFiles; batchRecords: number },
  ) {
    this.key = `http:${url}`;
  }

  async connect(): Promise<void> {
    readTls(this.opts.tls);
  }

  async send(records: UpstreamRecord[], ids: string[], meta: { device: string; stream: string }, onAcked: (count: number) => void): Promise<void> {
    for (let start = 0; start < records.length; start += this.opts.batchRecords) {
      const batch = records.slice(start, start + this.opts.batchRecords);
      const body = batch
        .map((r) => {
          const text = r.payload.toString('utf8');
          const exact = Buffer.from(text, 'utf8').equals(r.payload);
          return JSON.stringify(exact ? { topic: r.topic, payload: text } : { topic: r.topic, payloadBase64: r.payload.toString('base64') });
        })
        .join('\n');
      await this.post(`${body}\n`, { 'x-outpost-device': meta.device, 'x-outpost-stream': meta.stream, 'x-outpost-first-record': ids[start] ?? '' });
      onAcked(start + batch.length);
    }
  }

  private post(body: string, headers: Record<string, string>): Promise<void> {
    const url = new URL(this.url);
    const tls = url.protocol === 'https:' ? readTls(this.opts.tls) : {};
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(body), ...headers }, timeout: 30_000, ...tls }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new OutpostError(status === 401 || status === 403 ? 'auth' : 'unreachable', `${this.url} answered HTTP ${status}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => reject(upstreamError(this.url, err)));
      req.end(body);
    });
  }

  async close(): Promise<void> {}
}
