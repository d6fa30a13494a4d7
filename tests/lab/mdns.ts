// A minimal one-shot multicast-DNS query (RFC 6762 "legacy unicast": we send from an ephemeral
// port, so responders answer us by unicast). Used by the lab to wait for a device's avahi-daemon
// and by tests to prove that it answers. Sends only from the given lab address.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';

export type MdnsType = 'A' | 'PTR' | 'TXT' | 'SRV' | 'ANY';
const TYPE_CODES: Record<MdnsType, number> = { A: 1, PTR: 12, TXT: 16, SRV: 33, ANY: 255 };

export interface MdnsRecord {
  name: string;
  type: number;
  ttl: number;
  data: string | string[] | { priority: number; weight: number; port: number; target: string };
}

export interface MdnsQueryOptions {
  name: string;
  type: MdnsType;
  interfaceIp: string; // the lab address to send from (the technician's veth)
  timeoutMs: number;
  until?: (records: MdnsRecord[]) => boolean; // stop early once this holds
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').map((label) => {
    const b = Buffer.from(label, 'utf8');
    if (b.length > 63) throw new Error(`mDNS label too long: ${label}`);
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

export function encodeQuery(id: number, name: string, type: MdnsType): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4); // one question
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(TYPE_CODES[type], 0);
  tail.writeUInt16BE(1, 2); // class IN
  return Buffer.concat([header, encodeName(name), tail]);
}

function readName(buf: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = start;
  let end = -1;
  for (let jumps = 0; jumps < 64; jumps++) {
    const len = buf.readUInt8(pos);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { name: labels.join('.'), end };
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = pos + 2;
      pos = buf.readUInt16BE(pos) & 0x3fff;
      continue;
    }
    labels.push(buf.toString('utf8', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new Error('mDNS name compression loop');
}

export function decodeResponse(buf: Buffer): { id: number; records: MdnsRecord[] } {
  const id = buf.readUInt16BE(0);
  const qd = buf.readUInt16BE(4);
  const rrCount = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  let pos = 12;
  for (let i = 0; i < qd; i++) pos = readName(buf, pos).end + 4;
  const records: MdnsRecord[] = [];
  for (let i = 0; i < rrCount; i++) {
    const { name, end } = readName(buf, pos);
    const type = buf.readUInt16BE(end);
    const ttl = buf.readUInt32BE(end + 4);
    const rdlen = buf.readUInt16BE(end + 8);
    const rd = end + 10;
    let data: MdnsRecord['data'];
    if (type === 1) data = [0, 1, 2, 3].map((k) => buf.readUInt8(rd + k)).join('.');
    else if (type === 12) data = readName(buf, rd).name;
    else if (type === 33) {
      data = { priority: buf.readUInt16BE(rd), weight: buf.readUInt16BE(rd + 2), port: buf.readUInt16BE(rd + 4), target: readName(buf, rd + 6).name };
    } else if (type === 16) {
      const strings: string[] = [];
      for (let p = rd; p < rd + rdlen; ) {
        const l = buf.readUInt8(p);
        strings.push(buf.toString('utf8', p + 1, p + 1 + l));
        p += 1 + l;
      }
      data = strings;
    } else data = buf.toString('hex', rd, rd + rdlen);
    records.push({ name, type, ttl, data });
    pos = rd + rdlen;
  }
  return { id, records };
}

/** Sends one query to 224.0.0.251:5353 from interfaceIp; resolves with every record heard before the timeout (or `until`). */
export function mdnsQuery(opts: MdnsQueryOptions): Promise<MdnsRecord[]> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: 'udp4' });
    const id = randomInt(1, 0xffff);
    const records: MdnsRecord[] = [];
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(records);
    };
    const timer = setTimeout(() => finish(), opts.timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg) => {
      try {
        const res = decodeResponse(msg);
        if (res.id !== id) return;
        records.push(...res.records);
        if (opts.until?.(records)) finish();
      } catch {
        // ignore malformed packets
      }
    });
    sock.bind(0, opts.interfaceIp, () => {
      sock.setMulticastInterface(opts.interfaceIp);
      sock.setMulticastTTL(255);
      sock.send(encodeQuery(id, opts.name, opts.type), 5353, '224.0.0.251', (e) => {
        if (e) finish(e);
      });
    });
  });
}
