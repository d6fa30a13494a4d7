import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { OutpostError } from '../../../shared/errors';

export interface LaptopInterface {
  name: string;
  ipv4?: { address: string; cidr: string };
  ipv6?: { address: string; scopeId: number };
  virtual: boolean;
}

/** Container, VM and WSL plumbing: browsing or sweeping there finds the laptop's own guests, not the plant room. */
const VIRTUAL = [/^docker\d*/, /^veth/, /^br-/, /^virbr/, /^vEthernet/i, /^vmnet/, /^vboxnet/, /^cni/, /^flannel/, /^cali/, /^tun/, /^tap/, /^wsl/i, /^lxc/, /^lxd/, /^podman/];

export function isVirtualInterface(name: string): boolean {
  return VIRTUAL.some((re) => re.test(name));
}

export function describeInterfaces(table: NodeJS.Dict<NetworkInterfaceInfo[]>): LaptopInterface[] {
  const out: LaptopInterface[] = [];
  for (const [name, infos] of Object.entries(table)) {
    if (!infos) continue;
    const v4 = infos.find((i) => i.family === 'IPv4' && !i.internal);
    const v6 = infos.find((i) => i.family === 'IPv6' && !i.internal && i.address.toLowerCase().startsWith('fe80'));
    if (!v4 && !v6) continue;
    out.push({
      name,
      ipv4: v4 && v4.cidr ? { address: v4.address, cidr: v4.cidr } : undefined,
      ipv6: v6 ? { address: v6.address, scopeId: v6.scopeid ?? 0 } : undefined,
      virtual: isVirtualInterface(name),
    });
  }
  return out;
}

/**
 * The interfaces to browse/sweep on: every real one by default; exactly the named ones when the technician picks
 * (which is how a virtual interface, e.g. the lab's veth, gets in).
 */
export function chooseInterfaces(all: readonly LaptopInterface[], picked?: readonly string[]): LaptopInterface[] {
  if (!picked || picked.length === 0) return all.filter((i) => !i.virtual);
  const chosen: LaptopInterface[] = [];
  for (const name of picked) {
    const found = all.find((i) => i.name === name);
    if (!found) throw new OutpostError('invalid-input', `no network interface named ${name} with an address (have: ${all.map((i) => i.name).join(', ') || 'none'})`);
    chosen.push(found);
  }
  return chosen;
}

export function laptopInterfaces(picked?: readonly string[]): LaptopInterface[] {
  return chooseInterfaces(describeInterfaces(networkInterfaces()), picked);
}

/** Every address the laptop owns, so a sweep never probes itself. */
export function laptopAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((infos) => (infos ?? []).map((i) => i.address));
}
