// Network side of the lab: one bridge inside the lab netns, the technician netns (the current
// process) and one netns per device, each joined to the bridge by a veth pair.
import { run, runOk } from './util.js';

/** Each lab is keyed by $OUTPOST_LAB_ID (default "main"): labs with different ids share nothing on the host. */
export function labId(): string {
  const id = process.env.OUTPOST_LAB_ID || 'main';
  if (!/^[a-z0-9]{1,12}$/.test(id)) throw new Error(`invalid OUTPOST_LAB_ID ${JSON.stringify(id)} (1-12 of a-z, 0-9)`);
  return id;
}
export const LAB_ID = labId();
export const LAB_NETNS_PREFIX = `outpost-lab-${LAB_ID}-`;
export const TECH_NETNS = `${LAB_NETNS_PREFIX}tech`;
export const LAB_NETNS = `${LAB_NETNS_PREFIX}net`;
export const DEVICE_NETNS_PREFIX = `${LAB_NETNS_PREFIX}d-`;
export const BRIDGE = 'br0';
export const TECH_IF = 'lab0'; // technician side, in the tech netns
export const TECH_PEER_IF = 'vtech'; // its peer on the bridge
export const DEVICE_IF = 'eth0'; // device side, in the device netns
export const MDNS_ROUTE = '224.0.0.0/4';

export const netnsPath = (ns: string): string => `/run/netns/${ns}`;
export const deviceNetns = (name: string): string => `${DEVICE_NETNS_PREFIX}${name}`;
export const bridgePortName = (index: number): string => `vd${index}`; // <= 15 chars

export interface Subnet {
  cidr: string;
  prefix: number;
  base: number; // network address as uint32
}

export function parseSubnet(cidr: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`invalid lab subnet ${JSON.stringify(cidr)} (want a.b.c.d/nn)`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 8 || prefix > 26) throw new Error(`invalid lab subnet ${cidr}`);
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const base = addr - (addr % size);
  return { cidr: `${ipString(base)}/${prefix}`, prefix, base };
}

export function ipString(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Host number 1 is the technician; devices start at host number 10. */
export function hostIp(subnet: Subnet, hostNumber: number): string {
  if (hostNumber < 1 || hostNumber >= 2 ** (32 - subnet.prefix) - 1) {
    throw new Error(`lab subnet ${subnet.cidr} has no room for host number ${hostNumber}`);
  }
  return ipString(subnet.base + hostNumber);
}

const ipBatch = (ns: string | null, lines: string[]): Promise<unknown> =>
  runOk(ns ? ['ip', '-n', ns, '-batch', '-'] : ['ip', '-batch', '-'], { input: lines.join('\n') + '\n' });

/** Creates the lab netns with its bridge, and plugs the technician netns (ours) into it. */
export async function createLabNetwork(subnet: Subnet): Promise<string> {
  const techIp = hostIp(subnet, 1);
  await runOk(['ip', 'netns', 'add', LAB_NETNS]);
  await ipBatch(LAB_NETNS, [
    'link set lo up',
    // no snooping: mDNS must flood to every port like on a dumb switch
    `link add ${BRIDGE} type bridge mcast_snooping 0 stp_state 0 forward_delay 0`,
    `link set ${BRIDGE} up`,
  ]);
  // Runs in the current (technician) netns: assertInTechNetns() was checked by the caller.
  await run(['ip', 'link', 'del', TECH_IF]); // stale from an earlier lab in this same netns
  await runOk(['ip', 'link', 'add', TECH_IF, 'type', 'veth', 'peer', 'name', TECH_PEER_IF, 'netns', LAB_NETNS]);
  await ipBatch(null, [
    'link set lo up',
    `addr add ${techIp}/${subnet.prefix} dev ${TECH_IF}`,
    `link set ${TECH_IF} up`,
    `route add ${MDNS_ROUTE} dev ${TECH_IF}`,
  ]);
  await ipBatch(LAB_NETNS, [`link set ${TECH_PEER_IF} master ${BRIDGE}`, `link set ${TECH_PEER_IF} up`]);
  return techIp;
}

export async function createDeviceNetwork(name: string, index: number, ip: string, prefix: number): Promise<string> {
  const ns = deviceNetns(name);
  const port = bridgePortName(index);
  await runOk(['ip', 'netns', 'add', ns]);
  await runOk(['ip', 'link', 'add', port, 'netns', LAB_NETNS, 'type', 'veth', 'peer', 'name', DEVICE_IF, 'netns', ns]);
  await ipBatch(ns, [
    'link set lo up',
    `addr add ${ip}/${prefix} dev ${DEVICE_IF}`,
    `link set ${DEVICE_IF} up`,
    `route add ${MDNS_ROUTE} dev ${DEVICE_IF}`,
  ]);
  await ipBatch(LAB_NETNS, [`link set ${port} master ${BRIDGE}`, `link set ${port} up`]);
  return ns;
}

export async function setBridgePort(index: number, up: boolean): Promise<void> {
  await runOk(['ip', '-n', LAB_NETNS, 'link', 'set', bridgePortName(index), up ? 'up' : 'down']);
}

/** tbf on both ends of the device's link (no netem on this kernel); null removes the limit. */
export async function setRateLimit(name: string, index: number, kbit: number | null): Promise<void> {
  const ends: Array<[string, string]> = [
    [LAB_NETNS, bridgePortName(index)], // towards the device
    [deviceNetns(name), DEVICE_IF], // from the device
  ];
  for (const [ns, dev] of ends) {
    if (kbit === null) {
      // After a link down/up the kernel's default qdisc is back; deleting it answers "handle of zero": nothing to undo.
      const r = await run(['tc', '-n', ns, 'qdisc', 'del', 'dev', dev, 'root']);
      if (r.code !== 0 && !/No such file|Cannot find|no qdisc|Invalid handle|handle of zero/i.test(r.stderr)) {
        throw new Error(`tc qdisc del on ${ns}/${dev} failed: ${r.stderr.trim()}`);
      }
      continue;
    }
    if (!Number.isInteger(kbit) || kbit <= 0) throw new Error(`rateLimit: kbit must be a positive integer, got ${kbit}`);
    const burstBytes = Math.max(4096, Math.round((kbit * 125) / 10)); // ~100 ms worth, at least a few MTUs
    await runOk(['tc', '-n', ns, 'qdisc', 'replace', 'dev', dev, 'root', 'tbf',
      'rate', `${kbit}kbit`, 'burst', String(burstBytes), 'latency', '400ms']);
  }
}

export async function listLabNetns(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n): n is string => !!n && n.startsWith(LAB_NETNS_PREFIX));
}

export async function deleteNetns(ns: string): Promise<void> {
  const r = await run(['ip', 'netns', 'del', ns]);
  if (r.code !== 0 && !/No such file/.test(r.stderr)) throw new Error(`ip netns del ${ns}: ${r.stderr.trim()}`);
}
