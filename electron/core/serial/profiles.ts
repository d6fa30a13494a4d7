import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SiteProfile } from '../../../shared/contract/serial';
import { OutpostError } from '../../../shared/errors';
import type { BringUpSettings } from './bring-up';

function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new OutpostError('invalid-input', `"${ip}" is not an IPv4 address`);
  return (((p[0] as number) << 24) >>> 0) + ((p[1] as number) << 16) + ((p[2] as number) << 8) + (p[3] as number);
}
const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * The per-device values a profile gives one device (pure): the same device (by key) keeps what it was given before;
 * a new one gets the next number and the first pool address no other device of the profile holds.
 */
export function assignFor(profile: SiteProfile, deviceKey: string): { n: number; address?: string; hostname?: string } {
  const existing = profile.assigned[deviceKey];
  if (existing) return existing;
  const used = Object.values(profile.assigned);
  const n = used.reduce((max, a) => Math.max(max, a.n), 0) + 1;
  const hostname = profile.hostnamePattern ? profile.hostnamePattern.replace(/\{n(?::(\d+))?\}/g, (_, w?: string) => String(n).padStart(Number(w ?? 0), '0')) : undefined;
  let address: string | undefined;
  if (profile.network?.mode === 'static') {
    const taken = new Set(used.map((a) => a.address));
    const from = ipToInt(profile.network.poolFrom);
    const to = ipToInt(profile.network.poolTo);
    for (let i = from; i <= to; i++) {
      if (!taken.has(intToIp(i))) {
        address = intToIp(i);
        break;
      }
    }
    if (!address) throw new OutpostError('conflict', `profile ${profile.name}: every address from ${profile.network.poolFrom} to ${profile.network.poolTo} is handed out`);
  }
  return { n, address, hostname };
}

export function settingsFrom(profile: SiteProfile, values: { address?: string; hostname?: string }, laptopPublicKey: string): BringUpSettings {
  const net = profile.network;
  return {
    authorizeKey: profile.authorizeLaptopKey ? laptopPublicKey : undefined,
    sshd: profile.sshd,
    hostname: values.hostname,
    network: !net
      ? undefined
      : net.mode === 'dhcp'
        ? { mode: 'dhcp', interface: net.interface }
        : { mode: 'static', interface: net.interface, address: values.address as string, prefix: net.prefix, gateway: net.gateway, dns: net.dns },
    clock: profile.clock,
  };
}

/** Site profiles as one JSON file each under the data dir (a technician can copy one to a colleague's laptop). */
export class ProfileStore {
  constructor(private readonly dir: string) {}

  private file(name: string): string {
    return join(this.dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  }

  list(): SiteProfile[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => {
        const parsed = SiteProfile.safeParse(JSON.parse(readFileSync(join(this.dir, f), 'utf8')));
        return parsed.success ? [parsed.data] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): SiteProfile {
    const f = this.file(name);
    if (!existsSync(f)) throw new OutpostError('not-found', `no site profile named ${name}`);
    return SiteProfile.parse(JSON.parse(readFileSync(f, 'utf8')));
  }

  save(profile: SiteProfile): SiteProfile {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const f = this.file(profile.name);
    writeFileSync(`${f}.tmp`, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${f}.tmp`, f);
    return profile;
  }

  delete(name: string): boolean {
    const f = this.file(name);
    if (!existsSync(f)) return false;
    rmSync(f);
    return true;
  }
}
