// Files that make up one device's own view of the system. They are written on the host into the
// device's overlay upper dirs (<root>/etc, <root>/var, ...) before the device starts; inside the
// device they appear at their usual paths (/etc/ssh/sshd_config, /etc/init.d/docker, ...).
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, chownSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface DeviceFileSpec {
  name: string;
  ip: string;
  root: string;
  ssh: boolean;
  docker: boolean;
  /** dockerd's only socket inside the device (default /var/run/docker.sock). */
  dockerSocket: string;
  /** Variables sshd sets for every session (sshd_config SetEnv), e.g. DOCKER_HOST. */
  sshEnv: Record<string, string>;
  avahi: boolean;
  clientPublicKey: string;
  rootPasswordHash: string;
  services: Array<{ type: string; port: number; txt?: Record<string, string> }>;
  /** A CPU without AES instructions (a Raspberry Pi 4): see DeviceSpec.noAes. */
  noAes?: boolean;
  clock?: string;
  mosquitto?: boolean;
  noOpenssl?: boolean;
}

export const FAKETIME_LIBRARY = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((p) => existsSync(p));

/**
 * The device's `date`: setting the time (`-s`/`--set`) rewrites libfaketime's start time in /etc/faketimerc, so
 * the device's clock moves and the host's never does; anything else is the real date under the fake clock.
 */
const FAKE_DATE = `#!/bin/sh
set_to=; prev=
for a in "$@"; do
  case "$prev" in -s|--set) set_to=$a ;; esac
  case "$a" in --set=*) set_to=\${a#--set=} ;; esac
  prev=$a
done
if [ -n "$set_to" ]; then
  t=$(/bin/date -d "$set_to" '+%Y-%m-%d %H:%M:%S') || exit 1
  echo "@$t" > /etc/faketimerc
  exec /bin/date -d "$set_to"
fi
exec /bin/date "$@"
`;

/** Overlay upper dir name (under the device root) → the directory it covers inside the device. */
export const OVERLAYS: Array<[string, string]> = [
  ['etc', '/etc'],
  ['var', '/var'],
  ['home', '/home'],
  ['opt', '/opt'],
  ['srv', '/srv'],
  ['usr-local', '/usr/local'],
];

const SERVICE_TYPE_RE = /^_[a-z0-9-]{1,40}\._(tcp|udp)$/;

function put(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function avahiService(type: string, port: number, txt: Record<string, string> = {}): string {
  if (!SERVICE_TYPE_RE.test(type)) throw new Error(`invalid avahi service type ${JSON.stringify(type)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid service port ${port}`);
  const records = Object.entries(txt).map(([k, v]) => `    <txt-record>${xml(`${k}=${v}`)}</txt-record>\n`).join('');
  return `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name replace-wildcards="yes">%h</name>
  <service>
    <type>${type}</type>
    <port>${port}</port>
${records}  </service>
</service-group>
`;
}

/** A SysV-style script so the device restarts its services itself (`/etc/init.d/docker restart`). */
function initScript(name: string, pidfile: string, startBody: string): string {
  return `#!/bin/sh
# outpost-lab device service: ${name} (start|stop|restart|status|kill [SIGNAL])
PIDFILE=${pidfile}
running() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
do_start() {
${startBody}
}
do_stop() {
  if ! running; then rm -f "$PIDFILE"; return 0; fi
  pid="$(cat "$PIDFILE")"
  kill -s "$1" "$pid" || true
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -eq 600 ]; then kill -s KILL "$pid" 2>/dev/null || true; fi
    sleep 0.05
  done
  rm -f "$PIDFILE"
}
case "$1" in
  start) running || do_start ;;
  stop) do_stop TERM ;;
  kill) do_stop "\${2:-KILL}" ;;
  restart) do_stop TERM; do_start ;;
  status) if running; then echo "${name} is running"; else echo "${name} is not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|restart|status|kill [SIGNAL]" >&2; exit 2 ;;
esac
`;
}

/** OpenSSL's capability mask clearing AES-NI (bit 57) and PCLMULQDQ (bit 33). */
export const NO_AES_IA32CAP = '~0x200000200000000';

/** /proc/cpuinfo as a CPU without AES instructions would show it: `aes` and `vaes` dropped from every flags line. */
export function cpuinfoWithoutAes(cpuinfo: string): string {
  return cpuinfo
    .split('\n')
    .map((line) => (/^(flags|Features)\s*:/.test(line) ? line.replace(/ (v?aes)(?= |$)/g, '') : line))
    .join('\n');
}

export const DOCKERD_SAFETY_FLAGS = '--bridge=none --iptables=false --ip6tables=false';

export function writeDeviceFiles(d: DeviceFileSpec): void {
  const etc = join(d.root, 'etc');
  for (const [upper] of OVERLAYS) mkdirSync(join(d.root, upper), { recursive: true });
  for (const [upper] of OVERLAYS) mkdirSync(join(d.root, '.work', upper), { recursive: true });
  for (const dir of ['run', 'tmp', 'var/spool/outpost', 'var/lib/outpost', 'var/lib/docker', 'var/log', 'etc/avahi/services', 'usr-local/bin']) {
    mkdirSync(join(d.root, dir), { recursive: true });
  }
  chmodSync(join(d.root, 'tmp'), 0o1777);

  put(join(etc, 'hostname'), `${d.name}\n`);
  put(join(etc, 'hosts'), `127.0.0.1\tlocalhost\n127.0.1.1\t${d.name}\n${d.ip}\t${d.name}.local ${d.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);

  // passwd/shadow: the host's accounts, with a per-lab root password for the serial console.
  copyFileSync('/etc/passwd', join(etc, 'passwd'));
  const shadow = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .map((l) => (l.startsWith('root:') ? l.replace(/^root:[^:]*:/, `root:${d.rootPasswordHash}:`) : l))
    .join('\n');
  const st = statSync('/etc/shadow');
  put(join(etc, 'shadow'), shadow, 0o640);
  chownSync(join(etc, 'shadow'), st.uid, st.gid);

  // sshd: own host key (written by the caller), lab client key authorized for root.
  put(join(etc, 'ssh/outpost-lab_authorized_keys'), `${d.clientPublicKey.trim()}\n`);
  put(join(etc, 'ssh/sshd_config'), [
    '# outpost-lab device sshd',
    `ListenAddress ${d.ip}:22`,
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'AuthorizedKeysFile /etc/ssh/outpost-lab_authorized_keys .ssh/authorized_keys',
    'PidFile /run/sshd.pid',
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UseDNS no',
    'MaxStartups 200:30:400',
    'MaxSessions 100',
    'AcceptEnv LANG LC_*',
    ...Object.entries(d.sshEnv).map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || /[\s"\\]/.test(v)) throw new Error(`invalid sshd SetEnv ${k}=${v}`);
      return `SetEnv ${k}=${v}`;
    }),
    'AllowStreamLocalForwarding yes',
    'AllowTcpForwarding yes',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n'));
  // /etc/default/ssh: sshd's environment (OPENSSL_ia32cap for a device without AES instructions).
  put(join(etc, 'default/ssh'), d.noAes ? `# AES-NI and PCLMULQDQ masked: OpenSSL runs AES-GCM in software, as on a CPU without AES\nexport OPENSSL_ia32cap='${NO_AES_IA32CAP}'\n` : '# extra environment for sshd on this lab device\n');
  put(join(etc, 'init.d/ssh'), initScript('ssh', '/run/sshd.pid', '  mkdir -p /run/sshd\n  [ -f /etc/default/ssh ] && . /etc/default/ssh\n  /usr/sbin/sshd -f /etc/ssh/sshd_config -E /var/log/sshd.log'), 0o755);
  // What the device's /proc/cpuinfo shows (bound over it by init): the host's, without the AES flags.
  if (d.noAes) put(join(d.root, 'cpuinfo'), cpuinfoWithoutAes(readFileSync('/proc/cpuinfo', 'utf8')));

  // docker: engine socket at /var/run/docker.sock (or the spec's) inside the device; the safety flags are not optional.
  put(join(etc, 'default/docker'), '# extra dockerd flags for this lab device\nDOCKER_OPTS=""\n');
  put(join(etc, 'init.d/docker'), initScript('docker', '/run/docker.pid', [
    '  DOCKER_OPTS=""',
    '  [ -f /etc/default/docker ] && . /etc/default/docker',
    '  # shellcheck disable=SC2086',
    `  mkdir -p ${dirname(d.dockerSocket)}`,
    `  setsid -f /usr/sbin/dockerd --host unix://${d.dockerSocket} --data-root /var/lib/docker \\`,
    `    --exec-root /var/run/docker --pidfile /run/docker.pid $DOCKER_OPTS ${DOCKERD_SAFETY_FLAGS} \\`,
    '    </dev/null >>/var/log/docker.log 2>&1',
  ].join('\n')), 0o755);

  if (d.clock !== undefined) {
    if (!FAKETIME_LIBRARY) throw new Error('a lab device with a wrong clock needs libfaketime (Debian package faketime; bash tests/lab/lab-deps.sh)');
    if (!/^[@+-]?[0-9: .-]+[a-z]?$/.test(d.clock)) throw new Error(`invalid faketime spec ${JSON.stringify(d.clock)}`);
    put(join(etc, 'ld.so.preload'), `${FAKETIME_LIBRARY}\n`);
    put(join(etc, 'faketimerc'), `${d.clock}\n`);
    put(join(d.root, 'usr-local/bin/date'), FAKE_DATE, 0o755);
  }

  // A device without openssl (a minimal image): a non-executable file is bound over /usr/bin/openssl by init.
  if (d.noOpenssl) put(join(d.root, 'no-openssl'), '# openssl is not installed on this lab device\n', 0o644);

  // mosquitto: its own config; listeners come from /etc/mosquitto/conf.d (what an install target writes).
  if (d.mosquitto) {
    put(join(etc, 'mosquitto/mosquitto.conf'), ['# outpost-lab device broker', 'pid_file /run/mosquitto/mosquitto.pid', 'persistence false', 'log_dest file /run/mosquitto/mosquitto.log', 'log_type all', 'include_dir /etc/mosquitto/conf.d', 'listener 1883 127.0.0.1', ''].join('\n'));
    mkdirSync(join(etc, 'mosquitto/conf.d'), { recursive: true });
    put(join(etc, 'init.d/mosquitto'), initScript('mosquitto', '/run/mosquitto/mosquitto.pid',
      '  mkdir -p /run/mosquitto && chown mosquitto /run/mosquitto 2>/dev/null\n  mosquitto -c /etc/mosquitto/mosquitto.conf -d >>/var/log/mosquitto.log 2>&1'), 0o755);
  }

  // avahi: real avahi-daemon without dbus, only on the device's lab interface.
  put(join(etc, 'avahi/avahi-daemon.conf'), [
    '[server]',
    `host-name=${d.name}`,
    'domain-name=local',
    'use-ipv4=yes',
    'use-ipv6=no',
    'allow-interfaces=eth0',
    'enable-dbus=no',
    'ratelimit-interval-usec=1000000',
    'ratelimit-burst=1000',
    '[wide-area]',
    'enable-wide-area=no',
    '[publish]',
    'publish-hinfo=no',
    'publish-workstation=no',
    '[reflector]',
    'enable-reflector=no',
    '',
  ].join('\n'));
  put(join(etc, 'init.d/avahi-daemon'), initScript('avahi-daemon', '/run/avahi-daemon/pid',
    '  mkdir -p /run/avahi-daemon\n  avahi-daemon -f /etc/avahi/avahi-daemon.conf --no-drop-root --no-chroot --no-rlimits -D'), 0o755);
  const services = join(etc, 'avahi/services');
  if (d.ssh) put(join(services, 'ssh.service'), avahiService('_ssh._tcp', 22));
  if (d.docker) put(join(services, 'docker.service'), avahiService('_docker._tcp', 2375, { socket: d.dockerSocket }));

  // podman: Debian's podman answering the Docker API on /run/podman/podman.sock, no systemd on the device. Its
  // containers get ulimits within this machine's hard limits (runc cannot raise them here), read at start.
  put(join(etc, 'init.d/podman'), initScript('podman', '/run/podman.pid', [
    '  mkdir -p /run/podman /etc/containers /var/lib/containers/storage /run/containers/storage',
    // The hard limits from /proc (dash's ulimit has no -u); "unlimited" is capped at what Podman can parse.
    '  n=$(sed -n "s/^Max open files  *[^ ]*  *\\([^ ]*\\).*/\\1/p" /proc/self/limits); u=$(sed -n "s/^Max processes  *[^ ]*  *\\([^ ]*\\).*/\\1/p" /proc/self/limits)',
    '  [ "$n" = unlimited ] && n=1048576; [ "$u" = unlimited ] && u=1048576',
    '  printf \'[containers]\\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\\n[engine]\\ncgroup_manager = "cgroupfs"\\nevents_logger = "file"\\n\' "$n" "$n" "$u" "$u" > /etc/containers/containers.conf',
    '  setsid -f sh -c \'echo $$ > /run/podman.pid; exec podman --storage-driver vfs --root /var/lib/containers/storage --runroot /run/containers/storage system service --time=0 unix:///run/podman/podman.sock\' \\',
    '    </dev/null >>/var/log/podman.log 2>&1',
  ].join('\n')), 0o755);
  d.services.forEach((s, i) => put(join(services, `extra-${i}.service`), avahiService(s.type, s.port, s.txt)));
}

/** The device's init, run by docker-init as pid 1 of the device's pid namespace. */
export function initShellScript(services: string[]): string {
  const overlays = OVERLAYS.map(([upper, dir]) => `ov ${upper} ${dir}`).join('\n');
  return `#!/bin/sh
# outpost-lab device init: private /etc /var /root ... (overlays), /run and /tmp; hostname; services.
set -eu
R="$OUTPOST_DEV_ROOT"
# Hide the host's own ssh host keys and the host-only docker CLI in /usr/local (overlay whiteouts).
for f in ssh_host_rsa_key ssh_host_rsa_key.pub ssh_host_ecdsa_key ssh_host_ecdsa_key.pub; do
  [ -e "$R/etc/ssh/$f" ] || mknod "$R/etc/ssh/$f" c 0 0
done
[ -e "$R/usr-local/bin/docker" ] || mknod "$R/usr-local/bin/docker" c 0 0
ov() {
  [ -d "$2" ] || return 0
  mount -t overlay "outpost-lab-$1" -o "lowerdir=$2,upperdir=$R/$1,workdir=$R/.work/$1" "$2"
}
${overlays}
# A device emulating another CPU (DeviceSpec.noAes) shows its own cpuinfo (bound before /tmp, which hides $R).
[ ! -f "$R/cpuinfo" ] || mount --bind "$R/cpuinfo" /proc/cpuinfo
# A device without openssl (DeviceSpec.noOpenssl): running it fails as on an image that does not ship it.
[ ! -f "$R/no-openssl" ] || mount --bind "$R/no-openssl" /usr/bin/openssl
mount --bind "$R/var/lib/docker" /var/lib/docker
mount --bind "$R/var/spool/outpost" /var/spool/outpost
mount --bind "$R/var/lib/outpost" /var/lib/outpost
mount --bind "$R/etc/avahi/services" /etc/avahi/services
mount --bind "$R/run" /run
mount --bind "$R/tmp" /tmp
# root's home as on a freshly imaged device (Debian's skeleton files only): an overlay of the host's /root would
# give every device the host's shell start-up files (a login shell sourcing pyenv cost ~100 ms per SSH exec) and
# its ~/.ssh.
mkdir -p "$R/root-home"
for f in .bashrc .profile; do [ -e "$R/root-home/$f" ] || [ ! -f "/etc/skel/$f" ] || cp "/etc/skel/$f" "$R/root-home/$f"; done
chmod 700 "$R/root-home"
mount --bind "$R/root-home" /root
hostname "$OUTPOST_DEV_NAME"
mkdir -p /run/sshd /run/avahi-daemon /run/lock
for svc in ${services.join(' ')}; do
  /etc/init.d/"$svc" start
done
: > /run/outpost-lab.ready
exec sleep infinity
`;
}

/**
 * Run on the far end of the serial pty: a getty inside the device (or, `shell`, a plain root /bin/sh with no login),
 * respawned after logout.
 */
export function serialShellScript(initPid: number, mode: 'getty' | 'shell' = 'getty', baud = 115200): string {
  const program = mode === 'shell' ? `env PS1='# ' /bin/sh -i` : `/sbin/agetty -L ${baud} - vt100`;
  return `#!/bin/sh
trap '' HUP
SOCAT=$PPID
while kill -0 "$SOCAT" 2>/dev/null && [ -d /proc/${initPid} ]; do
  nsenter -t ${initPid} -m -u -n -p -- setsid -c -w ${program} || sleep 1
done
`;
}
