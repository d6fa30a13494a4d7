import { OutpostError } from '../../../shared/errors';
import { quoteArg } from '../transport/shell-quote';

/**
 * Bring-up actions as data: each is the exact shell lines it will type on the console, built from what the device
 * said about itself (init system, network manager), so the technician reads them before they run. Every line is
 * idempotent: running the same bring-up twice changes nothing the second time. Values are single-quoted; nothing
 * the device or a profile supplies is spliced into a command unquoted.
 */

/** One POSIX sh line that tells us which tools the device has. */
export const PROBE_SCRIPT = [
  'if [ -d /run/systemd/system ]; then echo I=systemd; elif command -v rc-service >/dev/null 2>&1; then echo I=openrc; elif [ -d /etc/init.d ]; then echo I=sysv; else echo I=none; fi',
  'if command -v nmcli >/dev/null 2>&1 && nmcli -t -f RUNNING general 2>/dev/null | grep -q running; then echo N=networkmanager; elif [ -d /run/systemd/netif ]; then echo N=networkd; elif [ -f /etc/network/interfaces ] && command -v ifup >/dev/null 2>&1; then echo N=ifupdown; else echo N=ip; fi',
  'for s in ssh sshd dropbear; do [ -x /etc/init.d/$s ] && echo "S=$s"; done',
  'command -v ssh-keygen >/dev/null 2>&1 && echo G=1',
  'echo "W=$(id -un)"',
  'echo "R=$(cd ~ && pwd)"',
  'true',
].join('; ');

export type InitSystem = 'systemd' | 'openrc' | 'sysv' | 'none';
export type NetworkManagerKind = 'networkmanager' | 'networkd' | 'ifupdown' | 'ip';

export interface DeviceEnvironment {
  init: InitSystem;
  network: NetworkManagerKind;
  sshServices: string[];
  hasSshKeygen: boolean;
  user: string;
  home: string;
}

export function parseEnvironment(output: string): DeviceEnvironment {
  const env: DeviceEnvironment = { init: 'none', network: 'ip', sshServices: [], hasSshKeygen: false, user: '', home: '' };
  for (const line of output.split('\n')) {
    const m = /^([A-Z])=(.*)$/.exec(line.trim());
    if (!m) continue;
    const v = (m[2] ?? '').trim();
    if (m[1] === 'I' && ['systemd', 'openrc', 'sysv', 'none'].includes(v)) env.init = v as InitSystem;
    if (m[1] === 'N' && ['networkmanager', 'networkd', 'ifupdown', 'ip'].includes(v)) env.network = v as NetworkManagerKind;
    if (m[1] === 'S') env.sshServices.push(v);
    if (m[1] === 'G') env.hasSshKeygen = true;
    if (m[1] === 'W') env.user = v;
    if (m[1] === 'R') env.home = v;
  }
  return env;
}

export type NetworkSetting =
  | { mode: 'dhcp'; interface: string }
  | { mode: 'static'; interface: string; address: string; prefix: number; gateway?: string; dns?: string[] };

export interface BringUpSettings {
  /** The laptop's public key line for authorized_keys. */
  authorizeKey?: string;
  sshd?: boolean;
  hostname?: string;
  network?: NetworkSetting;
  /** Set the device clock to the laptop's (seconds since the epoch, taken when the step runs). */
  clock?: boolean;
}

export type ActionId = 'authorize-key' | 'sshd' | 'hostname' | 'network' | 'clock';

export interface BringUpAction {
  id: ActionId;
  title: string;
  commands: string[];
}

const HOSTNAME = /^(?=.{1,63}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const IFACE = /^[A-Za-z0-9_.:-]{1,15}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const KEY_LINE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( [^\r\n]*)?$/;

function invalid(message: string): never {
  throw new OutpostError('invalid-input', message);
}

export function validateSettings(s: BringUpSettings): void {
  if (s.authorizeKey !== undefined && !KEY_LINE.test(s.authorizeKey.trim())) invalid('the key to authorize is not an OpenSSH public key line');
  if (s.hostname !== undefined && !HOSTNAME.test(s.hostname)) invalid(`"${s.hostname}" is not a valid hostname (letters, digits and -, at most 63)`);
  const n = s.network;
  if (n) {
    if (!IFACE.test(n.interface)) invalid(`"${n.interface}" is not a network interface name`);
    if (n.mode === 'static') {
      if (!IPV4.test(n.address)) invalid(`"${n.address}" is not an IPv4 address`);
      if (!(n.prefix >= 1 && n.prefix <= 32)) invalid(`prefix /${n.prefix} is out of range`);
      if (n.gateway !== undefined && !IPV4.test(n.gateway)) invalid(`gateway "${n.gateway}" is not an IPv4 address`);
      for (const d of n.dns ?? []) if (!IPV4.test(d)) invalid(`DNS server "${d}" is not an IPv4 address`);
    }
  }
}

function serviceStart(env: DeviceEnvironment, names: string[]): string {
  const name = env.sshServices[0] ?? names[0] ?? 'ssh';
  switch (env.init) {
    case 'systemd':
      return `systemctl enable --now ${names.map((n) => `${n}.service`).join(' ')} 2>/dev/null || systemctl enable --now ${quoteArg(`${name}.service`)}`;
    case 'openrc':
      return `rc-update add ${quoteArg(name)} default; rc-service ${quoteArg(name)} start`;
    case 'sysv':
      return `(update-rc.d ${quoteArg(name)} enable 2>/dev/null || true); /etc/init.d/${quoteArg(name)} start`;
    case 'none':
      return 'mkdir -p /run/sshd && (pidof sshd >/dev/null || /usr/sbin/sshd)';
  }
}

function fileWrite(path: string, lines: string[]): string {
  return `printf '%s\\n' ${lines.map(quoteArg).join(' ')} > ${quoteArg(path)}`;
}

function networkCommands(env: DeviceEnvironment, n: NetworkSetting): string[] {
  const i = quoteArg(n.interface);
  const cidr = n.mode === 'static' ? `${n.address}/${n.prefix}` : '';
  switch (env.network) {
    case 'networkmanager': {
      const con = quoteArg(`outpost-${n.interface}`);
      const ip = n.mode === 'static'
        ? `ipv4.method manual ipv4.addresses ${cidr}${n.gateway ? ` ipv4.gateway ${n.gateway}` : ''}${n.dns?.length ? ` ipv4.dns ${quoteArg(n.dns.join(','))}` : ''}`
        : 'ipv4.method auto';
      return [`nmcli connection delete ${con} >/dev/null 2>&1; nmcli connection add type ethernet ifname ${i} con-name ${con} autoconnect yes ${ip}`, `nmcli connection up ${con}`];
    }
    case 'networkd': {
      const lines = ['[Match]', `Name=${n.interface}`, '[Network]'];
      if (n.mode === 'dhcp') lines.push('DHCP=yes');
      else {
        lines.push(`Address=${cidr}`);
        if (n.gateway) lines.push(`Gateway=${n.gateway}`);
        for (const d of n.dns ?? []) lines.push(`DNS=${d}`);
      }
      return ['mkdir -p /etc/systemd/network', fileWrite(`/etc/systemd/network/10-outpost-${n.interface}.network`, lines), 'systemctl enable systemd-networkd >/dev/null 2>&1; systemctl restart systemd-networkd'];
    }
    case 'ifupdown': {
      const lines = [`auto ${n.interface}`, n.mode === 'dhcp' ? `iface ${n.interface} inet dhcp` : `iface ${n.interface} inet static`];
      if (n.mode === 'static') {
        lines.push(`  address ${cidr}`);
        if (n.gateway) lines.push(`  gateway ${n.gateway}`);
        if (n.dns?.length) lines.push(`  dns-nameservers ${n.dns.join(' ')}`);
      }
      return [
        'mkdir -p /etc/network/interfaces.d',
        "grep -qs '^source /etc/network/interfaces.d/' /etc/network/interfaces || echo 'source /etc/network/interfaces.d/*' >> /etc/network/interfaces",
        fileWrite(`/etc/network/interfaces.d/outpost-${n.interface}`, lines),
        `ifdown ${i} 2>/dev/null; ifup ${i}`,
      ];
    }
    case 'ip':
      // Plain ip(8) does not survive a reboot; that is said in the action's title.
      if (n.mode === 'dhcp') return [`ip link set ${i} up`, `udhcpc -i ${i} -n -q 2>/dev/null || dhclient -1 ${i}`];
      return [
        `ip link set ${i} up`,
        `ip -4 addr show dev ${i} | grep -q ' ${cidr} ' || ip addr add ${cidr} dev ${i}`,
        ...(n.gateway ? [`ip route replace default via ${n.gateway} dev ${i}`] : []),
        ...(n.dns?.length ? [fileWrite('/etc/resolv.conf', n.dns.map((d) => `nameserver ${d}`))] : []),
      ];
  }
}

/** The exact lines each chosen action will type, in the order they run. */
export function planBringUp(env: DeviceEnvironment, s: BringUpSettings, nowSeconds: number): BringUpAction[] {
  validateSettings(s);
  const actions: BringUpAction[] = [];
  if (s.authorizeKey) {
    const key = quoteArg(s.authorizeKey.trim());
    actions.push({
      id: 'authorize-key',
      title: `install the laptop's key in ${env.home || '~'}/.ssh/authorized_keys`,
      commands: [
        '(umask 077 && mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys)',
        `grep -qxF ${key} ~/.ssh/authorized_keys || echo ${key} >> ~/.ssh/authorized_keys`,
        'chmod 700 ~/.ssh && chmod 600 ~/.ssh/authorized_keys',
      ],
    });
  }
  if (s.sshd) {
    actions.push({
      id: 'sshd',
      title: `enable and start sshd (${env.init}), making host keys if missing`,
      commands: [...(env.hasSshKeygen ? ['ssh-keygen -A'] : []), serviceStart(env, ['ssh', 'sshd'])],
    });
  }
  if (s.hostname) {
    const h = quoteArg(s.hostname);
    actions.push({
      id: 'hostname',
      title: `set the hostname to ${s.hostname}`,
      commands: env.init === 'systemd'
        ? [`hostnamectl set-hostname ${h} 2>/dev/null || (hostname ${h} && echo ${h} > /etc/hostname)`]
        : [`hostname ${h} && echo ${h} > /etc/hostname`, `grep -q '^127.0.1.1' /etc/hosts && sed -i 's/^127.0.1.1.*/127.0.1.1\\t'${h}'/' /etc/hosts || echo '127.0.1.1	'${h} >> /etc/hosts`],
    });
  }
  if (s.network) {
    const n = s.network;
    const what = n.mode === 'dhcp' ? 'DHCP' : `${n.address}/${n.prefix}${n.gateway ? ` via ${n.gateway}` : ''}`;
    const lasting = env.network === 'ip' ? ' (plain ip: not kept across a reboot)' : '';
    actions.push({ id: 'network', title: `${n.interface}: ${what} with ${env.network}${lasting}`, commands: networkCommands(env, n) });
  }
  if (s.clock) {
    const t = Math.floor(nowSeconds);
    actions.push({ id: 'clock', title: `set the clock to the laptop's (${new Date(t * 1000).toISOString()})`, commands: [`date -u -s @${t} >/dev/null`, 'hwclock -w 2>/dev/null || true'] });
  }
  return actions;
}
