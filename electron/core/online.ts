import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { UpstreamReach } from '../../shared/contract/app';

/** What to dial: the upstream's host and port, and whether it speaks TLS (then the handshake must answer too). */
export interface ReachTarget {
  url: string;
  host: string;
  port: number;
  tls: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecure?: boolean;
}

const DEFAULT_PORTS: Record<string, { port: number; tls: boolean }> = {
  'mqtt:': { port: 1883, tls: false },
  'tcp:': { port: 1883, tls: false },
  'mqtts:': { port: 8883, tls: true },
  'ssl:': { port: 8883, tls: true },
  'ws:': { port: 80, tls: false },
  'wss:': { port: 443, tls: true },
  'http:': { port: 80, tls: false },
  'https:': { port: 443, tls: true },
};

/** The URL as shown to people and in events: without user name or password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export function reachTarget(url: string, tls?: { caFile?: string; certFile?: string; keyFile?: string; insecure?: boolean }): ReachTarget {
  const u = new URL(url);
  const scheme = DEFAULT_PORTS[u.protocol];
  if (!scheme) throw new Error(`unsupported upstream scheme ${u.protocol}`);
  return { url: redactUrl(url), host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : scheme.port, tls: scheme.tls, ...tls };
}

/**
 * Dials the upstream once: reachable when TCP connects and, for a TLS scheme, the server answers the handshake (a
 * refused client certificate still proves it is reachable: the push then says kind `auth`). Sends no data beyond that.
 */
export function probeUpstream(target: ReachTarget, timeoutMs = 3000): Promise<{ reachable: boolean; error: string | null }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (reachable: boolean, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ reachable, error });
    };
    const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);
    let socket: ReturnType<typeof tcpConnect>;
    try {
      socket = target.tls
        ? tlsConnect({ host: target.host, port: target.port, servername: /^[\d.:]+$/.test(target.host) ? undefined : target.host, ca: read(target.caFile), cert: read(target.certFile), key: read(target.keyFile), rejectUnauthorized: !target.insecure }, () => done(true, null))
        : tcpConnect({ host: target.host, port: target.port }, () => done(true, null));
    } catch (err) {
      resolve({ reachable: false, error: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => done(false, `no answer from ${target.host}:${target.port} within ${timeoutMs} ms`), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const network = ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'].includes(err.code ?? '');
      // A TLS-level failure after TCP connected (certificate, alert) means the server answered.
      done(!network && target.tls, network ? `${err.code}: ${err.message}` : `TLS: ${err.message}`);
    });
  });
}

/** A cheap fingerprint of the laptop's interfaces and addresses: when it changes, the network changed. */
export function interfacesSignature(read: typeof networkInterfaces = networkInterfaces): string {
  const all = read();
  return Object.keys(all)
    .sort()
    .map((name) => `${name}=${(all[name] ?? []).map((a) => `${a.address}/${a.netmask}`).sort().join(',')}`)
    .join(';');
}

export interface OnlineMonitorOptions {
  /** The configured upstream, read at every check (null: none configured). */
  target: () => ReachTarget | null;
  /** Periodic re-check; interface changes trigger one at once. */
  intervalMs: () => number;
  onChange: (reach: UpstreamReach) => void;
  /** Told the outcome of every check, changed or not. */
  onChecked?: (reach: UpstreamReach) => void;
  /** How often the interface list is compared (no traffic). */
  interfacesPollMs?: number;
  timeoutMs?: number;
}

/**
 * Keeps "online" current: checks the configured upstream periodically and whenever the laptop's interfaces change
 * (cable plugged, Wi-Fi joined), and reports each change of state once.
 */
export class OnlineMonitor {
  private reach: UpstreamReach = { state: 'unknown', target: null, checkedAt: null, error: null };
  private periodic: NodeJS.Timeout | null = null;
  private ifacePoll: NodeJS.Timeout | null = null;
  private signature = '';
  private checking: Promise<UpstreamReach> | null = null;
  private stopped = true;

  constructor(private readonly opts: OnlineMonitorOptions) {}

  current(): UpstreamReach {
    return this.reach;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.signature = interfacesSignature();
    this.ifacePoll = setInterval(() => {
      const now = interfacesSignature();
      if (now !== this.signature) {
        this.signature = now;
        void this.check();
      }
    }, this.opts.interfacesPollMs ?? 2000);
    this.ifacePoll.unref();
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.periodic) clearTimeout(this.periodic);
    if (this.ifacePoll) clearInterval(this.ifacePoll);
    this.periodic = null;
    this.ifacePoll = null;
  }

  /** Checks now (a check already running is shared) and re-arms the periodic timer. */
  check(): Promise<UpstreamReach> {
    this.checking ??= this.run().finally(() => {
      this.checking = null;
      this.arm();
    });
    return this.checking;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.periodic) clearTimeout(this.periodic);
    this.periodic = setTimeout(() => void this.check(), this.opts.intervalMs());
    this.periodic.unref();
  }

  private async run(): Promise<UpstreamReach> {
    let next: UpstreamReach;
    let target: ReachTarget | null = null;
    try {
      target = this.opts.target();
    } catch (err) {
      next = { state: 'lan-only', target: null, checkedAt: new Date().toISOString(), error: (err as Error).message };
    }
    if (!target) next ??= { state: 'no-upstream', target: null, checkedAt: new Date().toISOString(), error: null };
    else {
      const r = await probeUpstream(target, this.opts.timeoutMs);
      next = { state: r.reachable ? 'upstream-reachable' : 'lan-only', target: target.url, checkedAt: new Date().toISOString(), error: r.error };
    }
    const changed = next.state !== this.reach.state || next.target !== this.reach.target;
    this.reach = next;
    if (changed) this.opts.onChange(next);
    this.opts.onChecked?.(next);
    return next;
  }
}
