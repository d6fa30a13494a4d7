// One lab device: its own netns, and a process tree in its own pid + mount + UTS namespaces
// (docker-init as pid 1) running real sshd / dockerd / avahi-daemon, plus a socat serial console.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mdnsQuery } from './mdns.js';
import { createDeviceNetwork, deleteNetns, deviceNetns, netnsPath, setBridgePort, setRateLimit } from './netns.js';
import { initShellScript, serialShellScript, writeDeviceFiles } from './device-files.js';
import { isAlive, livePidFromFile, run, runOk, validateName, waitFor, writePidfile, type RunResult } from './util.js';

export interface DeviceSpec {
  name: string;
  ssh?: boolean; // default true
  docker?: boolean;
  /** dockerd listens only here (inside the device); default /var/run/docker.sock. */
  dockerSocket?: string;
  /** Set for every SSH session by sshd (`SetEnv`), e.g. { DOCKER_HOST: 'unix:///var/run/engine/docker.sock' }. */
  sshEnv?: Record<string, string>;
  /** Debian's `podman system service` answering the Docker API on /run/podman/podman.sock instead of dockerd. */
  podman?: boolean;
  avahi?: boolean; // announce via a real avahi-daemon
  serial?: boolean;
  /** The console's own rate: the far end scrambles both ways unless the laptop's side of the pty is set to it. */
  serialBaud?: number; // default 115200
  /** What answers on the console: agetty+login (default), a plain root /bin/sh, or only noise. */
  serialMode?: 'getty' | 'shell' | 'noise';
  services?: Array<{ type: string; port: number; txt?: Record<string, string> }>; // extra avahi service files
  /**
   * A CPU without AES instructions, like a Raspberry Pi 4: sshd runs with OPENSSL_ia32cap masking AES-NI (AES-GCM
   * in software) and the device's /proc/cpuinfo has no `aes` flag.
   */
  noAes?: boolean;
  /**
   * Devices naming the same group share one SSH host key, as boxes flashed from one golden image do. The key is
   * made once per lab and group.
   */
  hostKeyGroup?: string;
  /**
   * A wrong wall clock for everything in the device, as libfaketime's start time (e.g. '@1970-01-01 00:00:00'): the
   * library is in the device's /etc/ld.so.preload, so sshd and every command run over SSH see it. The device's
   * `date -s` moves that fake clock (it never reaches the host's: no lab device may set the real clock).
   */
  clock?: string;
  mosquitto?: boolean; // a mosquitto broker (own config, /etc/init.d/mosquitto), loopback-only until a target adds a listener
  /** No usable openssl on the device (a minimal image): keys for it must be made on the laptop. */
  noOpenssl?: boolean;
}

const groupKeys = new Map<string, Promise<void>>();

/** The one ed25519 host key of a group (`<stateDir>/image-keys/<group>/ssh_host_ed25519_key`), made on first use. */
function groupHostKey(stateDir: string, group: string): Promise<string> {
  validateName(group);
  const dir = join(stateDir, 'image-keys', group);
  const key = join(dir, 'ssh_host_ed25519_key');
  let made = groupKeys.get(key);
  if (!made && existsSync(`${key}.pub`)) return Promise.resolve(key);
  if (!made) {
    // Devices start side by side: the first makes the key, the others wait for it.
    made = (async () => {
      mkdirSync(dir, { recursive: true });
      await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@golden-image-${group}`, '-f', key]);
    })().finally(() => groupKeys.delete(key));
    groupKeys.set(key, made);
  }
  return made.then(() => key);
}

export interface LabDevice {
  name: string;
  ip: string;
  netns: string;
  hostname: string;
  root: string;
  spoolDir: string;
  libDir: string;
  hostKeyFingerprint: string;
  /** The engine's socket on the host (dockerd's, or Podman's), and inside the device. */
  dockerSocketHostPath?: string;
  dockerSocket?: string;
  serialPath?: string;
  serialPassword?: string;
  serialBaud?: number;
  /** Pulls the console's USB adapter: the pty and its path go away (as /dev/ttyUSB0 does). */
  unplugSerial(): Promise<void>;
  /** Plugs it back in: the same path appears again. */
  plugSerial(): Promise<void>;
  /** Host pid of the device's pid 1 (docker-init); `nsenter -t <initPid>` enters the device. */
  initPid: number;
  exec(argv: string[], opts?: { input?: string | Buffer }): Promise<{ code: number; stdout: string; stderr: string }>;
  stopDocker(): Promise<void>;
  startDocker(): Promise<void>;
  killDocker(signal?: NodeJS.Signals): Promise<void>;
  linkDown(): Promise<void>;
  linkUp(): Promise<void>;
  rateLimit(kbit: number | null): Promise<void>;
}

export interface DeviceContext {
  stateDir: string;
  prefix: number;
  techIp: string;
  clientPublicKey: string;
  rootPassword: string;
  rootPasswordHash: string;
}

export interface RunningDevice extends LabDevice {
  index: number;
  stop(): Promise<void>;
}

export const DEVICE_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  USER: 'root',
  LOGNAME: 'root',
};

const SERIAL_FAR_END = fileURLToPath(new URL('./serial-far-end.mjs', import.meta.url));

const pidfile = (ctx: DeviceContext, name: string, what: string): string => join(ctx.stateDir, 'pids', `${name}.${what}.pid`);

export function sshFingerprint(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (!blob) throw new Error('malformed ssh public key');
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

export function sshBanner(ip: string, port = 22, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: ip, port, timeout: timeoutMs });
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      data += chunk;
      if (data.includes('\n')) {
        sock.destroy();
        resolve(data.split('\n')[0].trim());
      }
    });
    sock.on('timeout', () => sock.destroy(new Error(`timeout reading ssh banner from ${ip}:${port}`)));
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`connection to ${ip}:${port} closed before a banner`)));
  });
}

export function dockerPing(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

function childPid(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

/** Stops a device by its pidfiles (works for a half-started one too), deletes its netns and files. */
export async function stopDevice(ctx: DeviceContext, name: string): Promise<void> {
  const socatPid = livePidFromFile(pidfile(ctx, name, 'socat'));
  if (socatPid) process.kill(socatPid, 'SIGTERM');
  const init = livePidFromFile(pidfile(ctx, name, 'init'));
  if (init) process.kill(init, 'SIGKILL'); // pid 1 of the device: the kernel kills everything inside
  const holder = livePidFromFile(pidfile(ctx, name, 'holder'));
  if (holder) process.kill(holder, 'SIGKILL');
  await waitFor(`processes of device ${name} to exit`, async () =>
    ![socatPid, init, holder].some((p) => p !== null && isAlive(p)), 15_000);
  await deleteNetns(deviceNetns(name));
  for (const what of ['socat', 'init', 'holder']) rmSync(pidfile(ctx, name, what), { force: true });
  const root = join(ctx.stateDir, 'd', name);
  await run(['umount', '-l', join(root, 'var/spool/outpost')]);
  await waitFor(`removal of ${root}`, async () => {
    rmSync(root, { recursive: true, force: true });
    return !existsSync(root);
  }, 10_000);
}

export async function startDevice(ctx: DeviceContext, spec: DeviceSpec, index: number, ip: string): Promise<RunningDevice> {
  validateName(spec.name);
  const name = spec.name;
  const ssh = spec.ssh ?? true;
  const docker = spec.docker ?? false;
  const avahi = spec.avahi ?? false;
  const podman = spec.podman ?? false;
  if (docker && podman) throw new Error(`lab device ${spec.name}: docker or podman, not both`);
  const dockerSocket = podman ? '/run/podman/podman.sock' : (spec.dockerSocket ?? '/var/run/docker.sock');
  if (!/^\/(var\/)?run\/[A-Za-z0-9._/-]+\.sock$/.test(dockerSocket)) throw new Error(`lab device ${spec.name}: the engine socket must live under /run: ${dockerSocket}`);
  const root = join(ctx.stateDir, 'd', name);
  if (existsSync(root)) throw new Error(`lab device ${name} already exists`);
  writeDeviceFiles({ name, ip, root, ssh, docker, dockerSocket, sshEnv: spec.sshEnv ?? {}, avahi, clientPublicKey: ctx.clientPublicKey, rootPasswordHash: ctx.rootPasswordHash, services: spec.services ?? [], noAes: spec.noAes, clock: spec.clock, mosquitto: spec.mosquitto, noOpenssl: spec.noOpenssl });
  // The device's spool is its own storage, not the laptop's disk: a device acknowledging (deleting) a thousand
  // segments must not slow the laptop's file creation on a shared ext4 (it skips recently freed inodes).
  await runOk(['mount', '-t', 'tmpfs', '-o', 'size=4g,mode=0755', `outpost-lab-spool-${name}`, join(root, 'var/spool/outpost')]);
  const keyPath = join(root, 'etc/ssh/ssh_host_ed25519_key');
  if (spec.hostKeyGroup) {
    const shared = await groupHostKey(ctx.stateDir, spec.hostKeyGroup);
    copyFileSync(shared, keyPath);
    copyFileSync(`${shared}.pub`, `${keyPath}.pub`);
  } else {
    await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', keyPath]);
  }
  const hostKeyFingerprint = sshFingerprint(readFileSync(`${keyPath}.pub`, 'utf8'));
  const services = [...(ssh ? ['ssh'] : []), ...(docker ? ['docker'] : []), ...(podman ? ['podman'] : []), ...(avahi ? ['avahi-daemon'] : []), ...(spec.mosquitto ? ['mosquitto'] : [])];
  const initPath = join(root, 'init.sh');
  writeFileSync(initPath, initShellScript(services), { mode: 0o755 });

  const ns = await createDeviceNetwork(name, index, ip, ctx.prefix);
  const initLog = join(root, 'init.log');
  const logFd = openSync(initLog, 'a');
  // setpriv --pdeathsig: if the technician process dies, the whole device dies with it.
  // Without CAP_SYS_TIME: the devices share the host's kernel clock, and a `date -s` in a device (Outpost's clock
  // set) must never move the machine's real clock.
  const holder = spawn('nsenter', [`--net=${netnsPath(ns)}`, 'setpriv', '--pdeathsig', 'SIGKILL', '--bounding-set', '-sys_time',
    'unshare', '--fork', '--pid', '--mount-proc', '--kill-child=SIGKILL', '--mount', '--uts', '--propagation', 'private',
    '/usr/bin/docker-init', '--', '/bin/sh', initPath], {
    cwd: '/', detached: true, stdio: ['ignore', logFd, logFd],
    // libfaketime shifts CLOCK_MONOTONIC too unless told not to; sshd's timeouts run on it.
    env: { ...DEVICE_ENV, OUTPOST_DEV_ROOT: root, OUTPOST_DEV_NAME: name, ...(spec.clock !== undefined ? { FAKETIME_DONT_FAKE_MONOTONIC: '1' } : {}) },
  });
  closeSync(logFd);
  holder.unref();
  const holderPid = holder.pid;
  if (!holderPid) throw new Error(`could not start device ${name}: ${tail(initLog)}`);
  writePidfile(pidfile(ctx, name, 'holder'), holderPid);
  const alive = (): void => {
    if (!isAlive(holderPid)) throw new Error(`device ${name} init exited; its log:\n${tail(initLog)}`);
  };
  let initPid = 0;
  await waitFor(`device ${name} pid namespace`, async () => {
    alive();
    initPid = childPid(holderPid) ?? 0;
    return initPid > 0;
  }, 10_000);
  writePidfile(pidfile(ctx, name, 'init'), initPid);
  await waitFor(`device ${name} init (see ${initLog})`, async () => {
    alive();
    return existsSync(join(root, 'run/outpost-lab.ready'));
  }, 30_000);

  // /run and /var/run inside the device are <root>/run on the host.
  const engineName = docker ? 'docker' : 'podman';
  const dockerSocketHostPath = docker || podman ? join(root, 'run', dockerSocket.replace(/^\/(var\/)?run\//, '')) : undefined;
  const exec = (argv: string[], opts: { input?: string | Buffer } = {}): Promise<RunResult> => {
    if (argv.length === 0) throw new Error('exec: empty argv');
    return run(['nsenter', '-t', String(initPid), '-m', '-u', '-n', '-p', '--', ...argv], { input: opts.input, cwd: '/', env: DEVICE_ENV });
  };
  const waitDocker = async (): Promise<void> => {
    if (!dockerSocketHostPath) throw new Error(`device ${name} has no docker engine`);
    await waitFor(`${engineName} on device ${name} (log: ${join(root, `var/log/${engineName}.log`)})`, async () => {
      alive();
      return dockerPing(dockerSocketHostPath);
    }, 60_000);
  };
  const service = async (svc: string, ...args: string[]): Promise<void> => {
    const r = await exec([`/etc/init.d/${svc}`, ...args]);
    if (r.code !== 0) throw new Error(`device ${name}: /etc/init.d/${svc} ${args.join(' ')} failed: ${r.stderr || r.stdout}`);
  };

  const waits: Array<Promise<void>> = [];
  if (ssh) {
    waits.push(waitFor(`sshd on device ${name} at ${ip}:22 (log: ${join(root, 'var/log/sshd.log')})`, async () => {
      alive();
      return (await sshBanner(ip)).startsWith('SSH-2.0-');
    }, 30_000));
  }
  if (docker || podman) waits.push(waitDocker());
  if (avahi) {
    waits.push(waitFor(`avahi-daemon on device ${name} answering mDNS for ${name}.local`, async () => {
      alive();
      const recs = await mdnsQuery({ name: `${name}.local`, type: 'A', interfaceIp: ctx.techIp, timeoutMs: 500, until: (r) => r.some((x) => x.type === 1) });
      return recs.some((x) => x.type === 1 && x.data === ip);
    }, 30_000));
  }

  let serialPath: string | undefined;
  const socatPidfile = pidfile(ctx, name, 'socat');
  const serialBaud = spec.serialBaud ?? 115200;
  const plugSerial = async (): Promise<void> => {
    const sp = join(root, 'ttyS0');
    if (livePidFromFile(socatPidfile)) throw new Error(`the serial console of ${name} is already plugged in`);
    const script = join(root, 'serial.sh');
    const mode = spec.serialMode ?? 'getty';
    writeFileSync(script, serialShellScript(initPid, mode === 'shell' ? 'shell' : 'getty', serialBaud), { mode: 0o755 });
    const serialLog = openSync(join(root, 'serial.log'), 'a');
    const farEnd = `${process.execPath} ${SERIAL_FAR_END} ${sp} ${serialBaud} ${mode} ${script}`;
    if (/\s/.test(SERIAL_FAR_END) || /\s/.test(sp) || /\s/.test(process.execPath)) throw new Error('serial far end: paths with spaces are not supported');
    const socat = spawn('setpriv', ['--pdeathsig', 'SIGTERM', 'socat', `PTY,link=${sp},raw,echo=0`, `EXEC:${farEnd}`], {
      cwd: '/', detached: true, stdio: ['ignore', serialLog, serialLog], env: DEVICE_ENV,
    });
    closeSync(serialLog);
    socat.unref();
    if (!socat.pid) throw new Error(`could not start serial console for ${name}`);
    writePidfile(socatPidfile, socat.pid);
    await waitFor(`serial console pty of device ${name} (log: ${join(root, 'serial.log')})`, async () => existsSync(sp), 10_000);
  };
  const unplugSerial = async (): Promise<void> => {
    const pid = livePidFromFile(socatPidfile);
    if (!pid) throw new Error(`the serial console of ${name} is not plugged in`);
    process.kill(pid, 'SIGTERM');
    const sp = join(root, 'ttyS0');
    await waitFor(`serial console of ${name} to go away`, async () => !isAlive(pid) && !existsSync(sp), 10_000);
    rmSync(socatPidfile, { force: true });
  };
  if (spec.serial) {
    serialPath = join(root, 'ttyS0');
    waits.push(plugSerial());
  }
  await Promise.all(waits);

  const stop = (): Promise<void> => stopDevice(ctx, name);

  return {
    name, ip, netns: ns, hostname: name, root, index, initPid,
    spoolDir: join(root, 'var/spool/outpost'),
    libDir: join(root, 'var/lib/outpost'),
    hostKeyFingerprint,
    dockerSocketHostPath,
    dockerSocket: docker || podman ? dockerSocket : undefined,
    serialPath,
    serialPassword: spec.serial ? ctx.rootPassword : undefined,
    serialBaud: spec.serial ? serialBaud : undefined,
    plugSerial,
    unplugSerial,
    exec,
    stop,
    startDocker: async () => {
      await service(engineName, 'start');
      await waitDocker();
    },
    stopDocker: () => service(engineName, 'stop'),
    killDocker: (signal: NodeJS.Signals = 'SIGKILL') => service(engineName, 'kill', signal.replace(/^SIG/, '')),
    linkDown: () => setBridgePort(index, false),
    linkUp: () => setBridgePort(index, true),
    rateLimit: (kbit: number | null) => setRateLimit(name, index, kbit),
  };
}
