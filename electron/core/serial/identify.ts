import { sshFingerprint, keyTypeOf } from '../transport/fingerprint';

/**
 * What a console tells about its device, read with one POSIX sh line (dash, busybox ash and bash alike), each fact
 * on its own tagged line so a missing tool costs one empty field, not the whole answer.
 */
export const IDENTIFY_SCRIPT = [
  'echo "H=$(cat /proc/sys/kernel/hostname 2>/dev/null || hostname)"',
  'for i in /sys/class/net/*; do n=${i##*/}; [ "$n" = lo ] || echo "M=$n $(cat "$i/address" 2>/dev/null)"; done',
  '(ip -o addr show 2>/dev/null | while read -r _ n fam a _; do echo "A=$n $fam $a"; done)',
  '(. /etc/os-release 2>/dev/null; echo "O=${PRETTY_NAME:-$NAME $VERSION_ID}")',
  'echo "U=$(uname -m)"',
  `echo "S=$( (tr -d '\\000' </proc/device-tree/serial-number || cat /sys/class/dmi/id/product_serial || sed -n 's/^Serial[[:space:]]*: *//p' /proc/cpuinfo) 2>/dev/null | head -n 1)"`,
  'if pidof sshd >/dev/null 2>&1 || pidof dropbear >/dev/null 2>&1 || pgrep -x sshd >/dev/null 2>&1; then echo D=1; else echo D=0; fi',
  'for b in docker dockerd balena-engine podman; do command -v $b >/dev/null 2>&1 && echo "K=$b"; done',
  'for s in /var/run/docker.sock /run/docker.sock /var/run/balena-engine.sock /run/podman/podman.sock; do [ -S $s ] && echo "Q=$s"; done',
  'for f in /etc/ssh/ssh_host_*_key.pub; do [ -f "$f" ] && echo "P=$(cat "$f")"; done',
  'true',
].join('; ');

export interface HostKey {
  type: string;
  fingerprint: string;
  /** The key's line as in `ssh_host_*_key.pub`. */
  publicKey: string;
}

export interface Identity {
  hostname: string;
  macs: Array<{ interface: string; mac: string }>;
  addresses: Array<{ interface: string; address: string; prefix: number; family: 'inet' | 'inet6' }>;
  os: string;
  arch: string;
  serial: string | null;
  sshd: boolean;
  docker: { present: boolean; tools: string[]; sockets: string[] };
  hostKeys: HostKey[];
}

const isZeroMac = (m: string) => /^(00:){5}00$/.test(m);

/** Parses the tagged lines of IDENTIFY_SCRIPT (pure; unknown lines ignored). */
export function parseIdentity(output: string): Identity {
  const id: Identity = { hostname: '', macs: [], addresses: [], os: '', arch: '', serial: null, sshd: false, docker: { present: false, tools: [], sockets: [] }, hostKeys: [] };
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Z])=(.*)$/.exec(line);
    if (!m) continue;
    const [, tag, value = ''] = m;
    switch (tag) {
      case 'H':
        id.hostname = value.trim();
        break;
      case 'M': {
        const [iface, mac] = value.trim().split(/\s+/);
        if (iface && mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac) && !isZeroMac(mac)) id.macs.push({ interface: iface, mac: mac.toLowerCase() });
        break;
      }
      case 'A': {
        const [iface, fam, cidr] = value.trim().split(/\s+/);
        if (!iface || !cidr || (fam !== 'inet' && fam !== 'inet6') || iface === 'lo') break;
        const [address, prefix] = cidr.split('/');
        if (!address || address.startsWith('127.') || address === '::1') break;
        id.addresses.push({ interface: iface, address, prefix: Number(prefix ?? (fam === 'inet' ? 32 : 128)), family: fam });
        break;
      }
      case 'O':
        id.os = value.trim();
        break;
      case 'U':
        id.arch = value.trim();
        break;
      case 'S':
        id.serial = value.trim() || null;
        break;
      case 'D':
        id.sshd = value.trim() === '1';
        break;
      case 'K':
        id.docker.tools.push(value.trim());
        break;
      case 'Q':
        id.docker.sockets.push(value.trim());
        break;
      case 'P': {
        const parts = value.trim().split(/\s+/);
        if (parts.length < 2 || !parts[1]) break;
        const blob = Buffer.from(parts[1], 'base64');
        if (blob.length < 8) break;
        id.hostKeys.push({ type: keyTypeOf(blob), fingerprint: sshFingerprint(blob), publicKey: `${parts[0]} ${parts[1]}` });
        break;
      }
    }
  }
  id.docker.present = id.docker.tools.length > 0 || id.docker.sockets.length > 0;
  return id;
}

/** The host key ssh2 will be shown first (ed25519 is what OpenSSH offers first to a modern client). */
export function preferredHostKey(keys: readonly HostKey[]): HostKey | undefined {
  const order = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'ssh-rsa'];
  return [...keys].sort((a, b) => (order.indexOf(a.type) + 1 || 99) - (order.indexOf(b.type) + 1 || 99))[0];
}
