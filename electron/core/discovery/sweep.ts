import { setMaxListeners } from 'node:events';
import { DEFAULT_SWEEP_PORTS } from '../../../shared/contract/discovery';
import type { DeviceService } from '../../../shared/contract';
import type { Sighting } from './merge';
import { readNeighbours, type Neighbour } from './neighbours';
import { probeDockerVersion, probeHttpTitle, probeMqtt, probeSsh, probeTls, type SshIdentity } from './probes';
import { mapLimit, tcpProbe, type ProbeOutcome } from './tcp-probe';

export interface SweepOptions {
  hosts: readonly string[];
  ports?: readonly number[];
  timeoutMs: number;
  /** Sockets in flight at once; measured fine at 1024 with the default 20k descriptor limit. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  /** Injected for tests; the OS neighbour table otherwise. */
  neighbours?: () => Promise<Map<string, Neighbour>>;
  /** Cancel: no new host is knocked; hosts that already answered are reported from the first knock alone. */
  signal?: AbortSignal;
}

export interface SweepResult {
  sightings: Sighting[];
  probes: number;
  /** SSH host keys seen, by "host:port", for pinning without a second handshake. */
  hostKeys: Map<string, Buffer>;
}

const SERVICE_NAMES: Record<number, string> = {
  22: '_ssh._tcp',
  2375: '_docker._tcp',
  2376: '_docker-tls._tcp',
  1883: '_mqtt._tcp',
  8883: '_secure-mqtt._tcp',
  80: '_http._tcp',
  443: '_https._tcp',
};

export function serviceTypeForPort(port: number): string {
  return SERVICE_NAMES[port] ?? `_port-${port}._tcp`;
}

interface HostFindings {
  open: number[];
  identity?: SshIdentity;
  docker?: { apiVersion?: string; tls?: boolean; port?: number };
  services: DeviceService[];
}

async function fingerprint(host: string, open: readonly number[], timeoutMs: number): Promise<HostFindings> {
  const findings: HostFindings = { open: [...open], services: [] };
  await Promise.all(
    open.map(async (port) => {
      const txt: Record<string, string> = {};
      if (port === 22) findings.identity = await probeSsh(host, port, timeoutMs);
      else if (port === 2375) {
        const apiVersion = await probeDockerVersion(host, port, timeoutMs);
        if (apiVersion) {
          findings.docker = { ...findings.docker, apiVersion, port, tls: findings.docker?.tls ?? false };
          txt.apiversion = apiVersion;
        }
      } else if (port === 2376) {
        const tls = await probeTls(host, port, timeoutMs);
        if (tls) findings.docker = { ...findings.docker, tls: true, port: findings.docker?.port ?? port };
        txt.tls = String(tls);
      } else if (port === 1883) txt.broker = String(await probeMqtt(host, port, timeoutMs));
      else if (port === 8883) txt.tls = String(await probeTls(host, port, timeoutMs));
      else if (port === 80) {
        const title = await probeHttpTitle(host, port, timeoutMs);
        if (title) txt.title = title;
      }
      findings.services.push({ type: serviceTypeForPort(port), port, txt });
    }),
  );
  findings.services.sort((a, b) => a.port - b.port);
  return findings;
}

/**
 * TCP sweep in two passes. Pass one knocks once per host (the first port): an answer or a RST proves it is there,
 * and the ARP traffic it causes fills the neighbour table, which catches hosts that drop that port. Pass two probes
 * every port of the hosts known to be there, then fingerprints what answered. Dead hosts cost one socket each.
 */
export async function sweep(opts: SweepOptions): Promise<SweepResult> {
  const ports = opts.ports?.length ? [...new Set(opts.ports)] : [...DEFAULT_SWEEP_PORTS];
  const [first, ...rest] = ports as [number, ...number[]];
  const concurrency = opts.concurrency ?? 1024;
  const readNeigh = opts.neighbours ?? readNeighbours;
  const total = opts.hosts.length * 2;
  let done = 0;
  const tick = () => opts.onProgress?.(++done, total);
  let probes = 0;

  // Every knock in flight listens for the cancel (up to `concurrency` at once).
  if (opts.signal) setMaxListeners(concurrency + 16, opts.signal);
  const firstKnock = await mapLimit(
    opts.hosts,
    concurrency,
    async (host) => {
      probes++;
      const outcome = await tcpProbe(host, first, opts.timeoutMs, opts.signal);
      tick();
      return outcome;
    },
    opts.signal,
  );
  const neighbours = await readNeigh();
  const present = opts.hosts
    .map((host, i) => ({ host, first: firstKnock[i] as ProbeOutcome | undefined }))
    .filter((h): h is { host: string; first: ProbeOutcome } => h.first !== undefined && (h.first !== 'silent' || neighbours.has(h.host)));
  for (let i = present.length; i < opts.hosts.length; i++) tick();

  const hostKeys = new Map<string, Buffer>();
  const sightings = await mapLimit(present, Math.max(1, Math.floor(concurrency / ports.length)), async ({ host, first: firstOutcome }) => {
    if (opts.signal?.aborted) {
      // Cancelled: what the first knock found, without the other ports or the fingerprint.
      tick();
      const mac = neighbours.get(host)?.mac;
      return { source: 'sweep', addresses: [host], macs: mac ? [mac] : [], services: firstOutcome === 'open' ? [{ type: serviceTypeForPort(first), port: first, txt: {} }] : [] } satisfies Sighting;
    }
    const outcomes = await Promise.all(rest.map((p) => tcpProbe(host, p, opts.timeoutMs)));
    probes += rest.length;
    const open = [firstOutcome === 'open' ? first : undefined, ...rest.filter((_, i) => outcomes[i] === 'open')].filter((p): p is number => p !== undefined);
    const f = await fingerprint(host, open, opts.timeoutMs);
    tick();
    if (f.identity?.hostKey) hostKeys.set(`${host}:22`, f.identity.hostKey);
    const mac = neighbours.get(host)?.mac;
    const sighting: Sighting = {
      source: 'sweep',
      addresses: [host],
      macs: mac ? [mac] : [],
      services: f.services,
      ssh: f.identity?.banner || f.identity?.hostKeyFingerprint ? { banner: f.identity.banner, hostKeyFingerprint: f.identity.hostKeyFingerprint } : undefined,
      docker: f.docker,
    };
    return sighting;
  });
  const macs = await readNeigh();
  for (const s of sightings) {
    const ip = s.addresses?.[0];
    const mac = ip ? macs.get(ip)?.mac : undefined;
    if (mac && !s.macs?.includes(mac)) s.macs = [...(s.macs ?? []), mac];
  }
  return { sightings, probes, hostKeys };
}
