import { DEFAULT_MDNS_TYPES } from '../../../shared/contract/discovery';
import type { DeviceService } from '../../../shared/contract';
import { cleanHostname, sanitizeText } from './sanitize';

/** A resource record as the DNS decoder hands it over; `data` is checked at runtime, never trusted. */
export interface RawRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  data?: unknown;
}

export interface MdnsHost {
  hostname: string;
  addresses: string[];
  services: DeviceService[];
}

interface Entry {
  name: string;
  type: 'PTR' | 'SRV' | 'TXT' | 'A' | 'AAAA';
  value: string;
  expiresAt: number;
}

const MAX_TXT_ENTRIES = 32;
const MAX_TXT_KEY = 64;
const MAX_TXT_VALUE = 255;
/** One responder cannot fill the laptop's memory: the cache keeps at most this many records. */
const MAX_ENTRIES = 20_000;

const lower = (s: string): string => s.replace(/\.$/, '').toLowerCase();

function isIpv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && s.split('.').every((o) => Number(o) <= 255);
}

/** TXT data (Buffers or strings) → key/value map, bounded and sanitised; malformed entries are dropped. */
export function parseTxt(data: unknown): Record<string, string> | undefined {
  const items = Array.isArray(data) ? data : [data];
  const out: Record<string, string> = {};
  let count = 0;
  for (const item of items) {
    const text = Buffer.isBuffer(item) ? item.toString('utf8') : typeof item === 'string' ? item : undefined;
    if (text === undefined || text.length === 0) continue;
    if (text.length > MAX_TXT_VALUE + MAX_TXT_KEY + 1) continue;
    const eq = text.indexOf('=');
    const key = sanitizeText(eq >= 0 ? text.slice(0, eq) : text, MAX_TXT_KEY).toLowerCase();
    if (!key || key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    if (++count > MAX_TXT_ENTRIES) break;
    out[key] = eq >= 0 ? sanitizeText(text.slice(eq + 1), MAX_TXT_VALUE) : '';
  }
  return out;
}

function encodeValue(rec: RawRecord): string | undefined {
  const d = rec.data;
  switch (rec.type) {
    case 'PTR':
      return typeof d === 'string' ? lower(d) : undefined;
    case 'A':
      return typeof d === 'string' && isIpv4(d) ? d : undefined;
    case 'AAAA':
      return typeof d === 'string' && /^[0-9a-f:.]+$/i.test(d) && d.includes(':') ? d.toLowerCase() : undefined;
    case 'SRV': {
      if (!d || typeof d !== 'object') return undefined;
      const srv = d as { port?: unknown; target?: unknown };
      if (typeof srv.port !== 'number' || !Number.isInteger(srv.port) || srv.port < 0 || srv.port > 65535) return undefined;
      if (typeof srv.target !== 'string') return undefined;
      const target = cleanHostname(srv.target);
      return target ? JSON.stringify([srv.port, target]) : undefined;
    }
    case 'TXT': {
      const txt = parseTxt(d);
      return txt ? JSON.stringify(txt) : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The mDNS record cache (RFC 6762 §10): records live for their TTL, a TTL of 0 is a goodbye that removes them,
 * and services are resolved from it PTR → SRV/TXT → A/AAAA. Pure: time comes in as an argument.
 */
export class MdnsCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly serviceTypes: readonly string[] = DEFAULT_MDNS_TYPES) {}

  /** Applies a packet's records; returns whether anything visible changed. Wrong-class or malformed records are ignored. */
  ingest(records: readonly RawRecord[], now: number): boolean {
    let changed = false;
    for (const rec of records) {
      if (!rec || typeof rec.name !== 'string' || typeof rec.type !== 'string') continue;
      if (rec.class !== undefined && rec.class !== 'IN') continue;
      const value = encodeValue(rec);
      if (value === undefined) continue;
      const type = rec.type as Entry['type'];
      const name = lower(rec.name);
      // SRV and TXT are unique records: a new one replaces the old rather than piling up.
      const key = type === 'SRV' || type === 'TXT' ? `${type} ${name}` : `${type} ${name} ${value}`;
      const ttl = typeof rec.ttl === 'number' && Number.isFinite(rec.ttl) ? Math.max(0, Math.min(rec.ttl, 86_400)) : 120;
      if (ttl === 0) {
        changed = this.entries.delete(key) || changed;
        continue;
      }
      const before = this.entries.get(key);
      if (!before && this.entries.size >= MAX_ENTRIES) continue;
      this.entries.set(key, { name, type, value, expiresAt: now + ttl * 1000 });
      if (!before || before.value !== value) changed = true;
    }
    return changed;
  }

  /** Drops expired records; returns whether any went. */
  expire(now: number): boolean {
    let changed = false;
    for (const [key, e] of this.entries) {
      if (e.expiresAt <= now) {
        this.entries.delete(key);
        changed = true;
      }
    }
    return changed;
  }

  private values(type: Entry['type'], name: string): string[] {
    const out: string[] = [];
    for (const e of this.entries.values()) if (e.type === type && e.name === name) out.push(e.value);
    return out;
  }

  addressesOf(hostname: string): string[] {
    const name = lower(hostname);
    return [...this.values('A', name), ...this.values('AAAA', name)];
  }

  /** Hosts with what they offer: one entry per SRV target, plus hosts that only announced their addresses. */
  hosts(): MdnsHost[] {
    const byHost = new Map<string, MdnsHost>();
    const hostEntry = (hostname: string): MdnsHost => {
      let h = byHost.get(hostname);
      if (!h) {
        h = { hostname, addresses: this.addressesOf(hostname), services: [] };
        byHost.set(hostname, h);
      }
      return h;
    };
    for (const type of this.serviceTypes) {
      for (const instance of this.values('PTR', `${type}.local`)) {
        const srv = this.values('SRV', instance)[0];
        if (!srv) continue;
        const [port, target] = JSON.parse(srv) as [number, string];
        const txtJson = this.values('TXT', instance)[0];
        const txt = txtJson ? (JSON.parse(txtJson) as Record<string, string>) : {};
        const host = hostEntry(target);
        if (!host.services.some((s) => s.type === type && s.port === port)) host.services.push({ type, port, txt });
      }
    }
    for (const e of this.entries.values()) {
      if ((e.type === 'A' || e.type === 'AAAA') && e.name.endsWith('.local') && cleanHostname(e.name)) hostEntry(e.name);
    }
    return [...byHost.values()].filter((h) => h.addresses.length > 0 && cleanHostname(h.hostname) !== undefined);
  }

  get size(): number {
    return this.entries.size;
  }
}
