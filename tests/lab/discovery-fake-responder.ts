// A fake mDNS responder for the discovery lab tests: sends hand-made (often malformed) packets to the mDNS
// group from the technician's lab address only, so they never leave the lab.
import dgram from 'node:dgram';
import { encode, type Answer } from 'dns-packet';

export async function sendMdns(fromIp: string, packets: readonly Buffer[]): Promise<void> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(0, fromIp, resolve));
  socket.setMulticastInterface(fromIp);
  socket.setMulticastLoopback(true);
  for (const p of packets) await new Promise<void>((resolve, reject) => socket.send(p, 5353, '224.0.0.251', (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}

export function response(answers: Answer[]): Buffer {
  return encode({ type: 'response', id: 0, flags: 1 << 10, answers });
}

export function serviceAnswers(host: string, ip: string, txt: Buffer[] = [Buffer.from('ok=1')]): Answer[] {
  return [
    { name: '_ssh._tcp.local', type: 'PTR', ttl: 120, data: `${host}._ssh._tcp.local` },
    { name: `${host}._ssh._tcp.local`, type: 'SRV', ttl: 120, data: { port: 22, target: `${host}.local`, priority: 0, weight: 0 } },
    { name: `${host}._ssh._tcp.local`, type: 'TXT', ttl: 120, data: txt },
    { name: `${host}.local`, type: 'A', ttl: 120, data: ip },
  ];
}

/** The malformed zoo: truncated, a compression loop, a wrong class, junk bytes, an oversized TXT. */
export function malformedPackets(labIpPrefix: string): Buffer[] {
  const header = (an: number) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(0x8400, 2);
    h.writeUInt16BE(an, 6);
    return h;
  };
  const valid = response(serviceAnswers('truncated', `${labIpPrefix}.240`));
  const loop = Buffer.concat([header(1), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 10, 0, 0, 1])]);
  const wrongClass = response(serviceAnswers('wrongclass', `${labIpPrefix}.241`).map((a) => ({ ...a, class: 'CH' as const })));
  const bigTxt = response(serviceAnswers('bigtxt', `${labIpPrefix}.242`, Array.from({ length: 200 }, (_, i) => Buffer.from(`k${i}=${'\u001b[31m'}${'v'.repeat(200)}`))));
  const junk = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37) % 256));
  return [valid.subarray(0, valid.length - 9), loop, wrongClass, junk, Buffer.alloc(0), bigTxt];
}
