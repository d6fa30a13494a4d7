import { EventEmitter } from 'node:events';
import makeMdns from 'multicast-dns';
import type { Answer } from 'dns-packet';
import { DEFAULT_MDNS_TYPES } from '../../../shared/contract/discovery';
import type { LaptopInterface } from './interfaces';
import { MdnsCache, type MdnsHost, type RawRecord } from './mdns-cache';

type MdnsSocket = ReturnType<typeof makeMdns>;

export interface MdnsBrowserOptions {
  interfaces: readonly LaptopInterface[];
  serviceTypes?: readonly string[];
  /** First re-query after this long, doubling up to `maxQueryIntervalMs` (RFC 6762 §5.2). */
  firstQueryIntervalMs?: number;
  maxQueryIntervalMs?: number;
}

export interface MdnsBrowserEvents {
  changed: [hosts: MdnsHost[]];
  warning: [message: string];
}

function asRaw(records: readonly Answer[] | undefined): RawRecord[] {
  return (records ?? []).map((r) => r as unknown as RawRecord);
}

/**
 * A continuous DNS-SD browser over every chosen interface (one multicast socket each). It asks for each service
 * type, chases what is missing (SRV, TXT, addresses), keeps the cache by TTL and tells listeners when the set of
 * hosts changed. Goodbyes (TTL 0) remove records at once. Malformed packets are counted and dropped.
 */
export class MdnsBrowser extends EventEmitter<MdnsBrowserEvents> {
  readonly cache: MdnsCache;
  private readonly sockets: MdnsSocket[] = [];
  private readonly types: readonly string[];
  private queryTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  private interval: number;
  packets = 0;
  malformed = 0;

  constructor(private readonly opts: MdnsBrowserOptions) {
    super();
    this.types = opts.serviceTypes?.length ? [...new Set([...DEFAULT_MDNS_TYPES, ...opts.serviceTypes])] : DEFAULT_MDNS_TYPES;
    this.cache = new MdnsCache(this.types);
    this.interval = opts.firstQueryIntervalMs ?? 1_000;
  }

  /** Opens the sockets; resolves once each is bound (or failed, which is reported as a warning). */
  async start(): Promise<void> {
    const ready: Array<Promise<void>> = [];
    for (const iface of this.opts.interfaces) {
      if (iface.ipv4) ready.push(this.open({ interface: iface.ipv4.address, bind: '0.0.0.0' }, iface.name));
      if (iface.ipv6) ready.push(this.open({ type: 'udp6', ip: 'ff02::fb', interface: `::%${iface.name}`, bind: '::' }, iface.name));
    }
    await Promise.all(ready);
    this.query();
    this.scheduleQuery();
    this.expiryTimer = setInterval(() => {
      if (this.cache.expire(Date.now())) this.emit('changed', this.cache.hosts());
    }, 1_000);
    this.expiryTimer.unref();
  }

  private open(options: Parameters<typeof makeMdns>[0], name: string): Promise<void> {
    return new Promise((resolve) => {
      let socket: MdnsSocket;
      try {
        socket = makeMdns({ ...options, port: 5353, reuseAddr: true, loopback: false, multicast: true });
      } catch (err) {
        this.emit('warning', `mDNS on ${name}: ${(err as Error).message}`);
        resolve();
        return;
      }
      this.sockets.push(socket);
      socket.on('ready', () => resolve());
      socket.on('error', (err: Error) => {
        this.emit('warning', `mDNS on ${name}: ${err.message}`);
        resolve();
      });
      socket.on('warning', () => {
        this.malformed++;
      });
      socket.on('response', (packet) => this.onResponse([...asRaw(packet.answers), ...asRaw(packet.additionals)]));
    });
  }

  private onResponse(records: RawRecord[]): void {
    this.packets++;
    if (this.cache.ingest(records, Date.now())) {
      this.chaseMissing();
      this.emit('changed', this.cache.hosts());
    }
  }

  /** Asks for SRV/TXT of instances and addresses of targets we know only by name. */
  private chaseMissing(): void {
    const missing: Array<{ name: string; type: 'SRV' | 'TXT' | 'A' }> = [];
    for (const host of this.cache.hosts()) {
      if (host.addresses.length === 0) missing.push({ name: `${host.hostname}`, type: 'A' });
    }
    if (missing.length) this.send(missing.slice(0, 32));
  }

  private query(): void {
    this.send(this.types.map((t) => ({ name: `${t}.local`, type: 'PTR' as const })));
  }

  private scheduleQuery(): void {
    this.queryTimer = setTimeout(() => {
      this.query();
      this.interval = Math.min(this.interval * 2, this.opts.maxQueryIntervalMs ?? 60_000);
      this.scheduleQuery();
    }, this.interval);
    this.queryTimer.unref();
  }

  /** Asks for one host's addresses again; used to check whether a quiet mDNS-only device is still there. */
  requery(hostname: string): void {
    this.send([{ name: hostname, type: 'A' }]);
  }

  private send(questions: Array<{ name: string; type: 'PTR' | 'SRV' | 'TXT' | 'A' }>): void {
    for (const socket of this.sockets) {
      socket.query({ questions }, (err: Error | null) => {
        if (err) this.emit('warning', `mDNS query failed: ${err.message}`);
      });
    }
  }

  hosts(): MdnsHost[] {
    return this.cache.hosts();
  }

  stop(): Promise<void> {
    clearTimeout(this.queryTimer);
    clearInterval(this.expiryTimer);
    const closing = this.sockets.splice(0).map((s) => new Promise<void>((resolve) => s.destroy(() => resolve())));
    return Promise.all(closing).then(() => undefined);
  }
}
