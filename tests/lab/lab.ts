// The Outpost device lab: real sshd / dockerd / avahi-daemon / getty devices in Linux namespaces,
// reachable from the technician netns that the calling process runs in (tests/lab/in-lab.sh).
// See tests/lab/README.md.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevice, stopDevice, type DeviceContext, type DeviceSpec, type LabDevice, type RunningDevice } from './device.js';
import { createLabNetwork, deleteNetns, hostIp, LAB_ID, LAB_NETNS, listLabNetns, netnsPath, parseSubnet, TECH_IF, TECH_NETNS } from './netns.js';
import { mapLimit, run, runOk, sameFile, validateName, waitFor } from './util.js';

export type { DeviceSpec, LabDevice } from './device.js';
export { waitFor } from './util.js';
export { importBusyboxImage, buildImage, type BuildImageOptions } from './images.js';
export { mdnsQuery, type MdnsRecord } from './mdns.js';
export { sshBanner, dockerPing } from './device.js';
export { TECH_NETNS, LAB_NETNS, LAB_ID, LAB_NETNS_PREFIX } from './netns.js';

export interface LabOptions {
  devices: DeviceSpec[];
  subnet?: string; // default 10.213.0.0/24; the technician gets host .1, devices .10 upwards
  stateDir?: string; // default $OUTPOST_LAB_STATE_DIR or /tmp/outpost-lab-<OUTPOST_LAB_ID>; its name must start with "outpost-lab"
  concurrency?: number; // devices started in parallel (default 8)
}

export interface Lab {
  techNetns: string;
  techIp: string;
  subnet: string;
  stateDir: string;
  devices: LabDevice[];
  clientKeyPath: string; // ed25519 private key authorized for root on every device
  clientPublicKey: string;
  rootPassword: string; // root's password on every device (serial console login)
  device(name: string): LabDevice;
  addDevice(spec: DeviceSpec): Promise<LabDevice>;
  removeDevice(name: string): Promise<void>;
  teardown(): Promise<void>;
}

export const DEFAULT_SUBNET = '10.213.0.0/24';
const FIRST_DEVICE_HOST = 10;
const CLEAN_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'lab-clean.sh');

export function defaultStateDir(): string {
  return process.env.OUTPOST_LAB_STATE_DIR ?? `/tmp/outpost-lab-${LAB_ID}`;
}

/** Throws unless running as root inside the technician netns created by tests/lab/in-lab.sh. */
export function assertInTechNetns(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('lab tests need root (network namespaces, mounts, dockerd): run them as root with `npm run test:lab`');
  }
  if (!sameFile('/proc/self/ns/net', netnsPath(TECH_NETNS))) {
    throw new Error('lab tests must run inside the technician netns: run them with `npm run test:lab`');
  }
}

function checkStateDir(dir: string): void {
  if (!/^\/[A-Za-z0-9._/-]*\/outpost-lab[A-Za-z0-9._-]*$/.test(dir) || dir.includes('..')) {
    throw new Error(`invalid lab stateDir ${JSON.stringify(dir)}: absolute, plain characters, last component named outpost-lab*`);
  }
  for (const covered of ['/etc', '/var', '/root', '/home', '/opt', '/srv', '/usr', '/run']) {
    if (dir.startsWith(`${covered}/`)) throw new Error(`lab stateDir must not be under ${covered} (devices overlay it)`);
  }
}

/** Removes stale state of an earlier lab (processes, mounts, netns except ours, the state dir). */
async function cleanStale(stateDir: string): Promise<void> {
  await runOk(['bash', CLEAN_SCRIPT, '--keep-tech', stateDir]);
  await run(['ip', 'link', 'del', TECH_IF]);
}

export async function startLab(opts: LabOptions): Promise<Lab> {
  assertInTechNetns();
  const stateDir = opts.stateDir ?? defaultStateDir();
  checkStateDir(stateDir);
  const subnet = parseSubnet(opts.subnet ?? DEFAULT_SUBNET);
  const names = new Set<string>();
  for (const d of opts.devices) {
    validateName(d.name);
    if (names.has(d.name)) throw new Error(`duplicate lab device name ${d.name}`);
    names.add(d.name);
  }
  await cleanStale(stateDir);
  mkdirSync(join(stateDir, 'pids'), { recursive: true });
  mkdirSync(join(stateDir, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(join(stateDir, 'd'), { recursive: true });

  const clientKeyPath = join(stateDir, 'keys', 'client_ed25519');
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'outpost-lab-technician', '-f', clientKeyPath]);
  const clientPublicKey = readFileSync(`${clientKeyPath}.pub`, 'utf8').trim();
  const rootPassword = randomBytes(12).toString('base64url');
  const rootPasswordHash = (await runOk(['openssl', 'passwd', '-6', '-stdin'], { input: `${rootPassword}\n` })).stdout.trim();

  const running = new Map<string, RunningDevice>();
  let nextIndex = 0;
  let techIp = '';
  let ctx: DeviceContext | null = null;

  const addDevice = async (spec: DeviceSpec): Promise<LabDevice> => {
    if (!ctx) throw new Error('lab is not running');
    validateName(spec.name);
    if (running.has(spec.name)) throw new Error(`lab device ${spec.name} already exists`);
    const index = nextIndex++;
    const ip = hostIp(subnet, FIRST_DEVICE_HOST + index);
    try {
      const dev = await startDevice(ctx, spec, index, ip);
      running.set(spec.name, dev);
      lab.devices.push(dev);
      return dev;
    } catch (e) {
      await stopDevice(ctx, spec.name).catch(() => undefined);
      throw e;
    }
  };

  const removeDevice = async (name: string): Promise<void> => {
    const dev = running.get(name);
    if (!dev) throw new Error(`no lab device named ${name}`);
    running.delete(name);
    lab.devices.splice(lab.devices.indexOf(dev), 1);
    await dev.stop();
  };

  let tornDown = false;
  const teardown = async (): Promise<void> => {
    if (tornDown) return;
    tornDown = true;
    const c = ctx;
    if (c) {
      const all = [...running.keys()];
      running.clear();
      lab.devices.length = 0;
      // stopDevice works from pidfiles, so half-started devices are stopped too
      const dirNames = existsSync(join(stateDir, 'd')) ? (await run(['ls', join(stateDir, 'd')])).stdout.split('\n').filter(Boolean) : [];
      const toStop = [...new Set([...all, ...dirNames])];
      await mapLimit(toStop, 16, (n) => stopDevice(c, n));
    }
    await deleteNetns(LAB_NETNS); // also removes our veth (its peer lives there)
    await runOk(['bash', CLEAN_SCRIPT, '--keep-tech', stateDir]);
    await waitFor('lab namespaces to disappear', async () => (await listLabNetns()).every((n) => n === TECH_NETNS), 10_000);
  };

  const lab: Lab = {
    techNetns: TECH_NETNS,
    techIp: '',
    subnet: subnet.cidr,
    stateDir,
    devices: [],
    clientKeyPath,
    clientPublicKey,
    rootPassword,
    device: (name: string) => {
      const d = running.get(name);
      if (!d) throw new Error(`no lab device named ${name}`);
      return d;
    },
    addDevice,
    removeDevice,
    teardown,
  };

  try {
    techIp = await createLabNetwork(subnet);
    lab.techIp = techIp;
    ctx = { stateDir, prefix: subnet.prefix, techIp, clientPublicKey, rootPassword, rootPasswordHash };
    const specs = opts.devices;
    const started = await mapLimit(specs, opts.concurrency ?? 8, async (spec) => {
      const index = nextIndex++;
      const c = ctx as DeviceContext;
      const dev = await startDevice(c, spec, index, hostIp(subnet, FIRST_DEVICE_HOST + index));
      running.set(spec.name, dev);
      return dev;
    });
    lab.devices.push(...started); // in spec order
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
  return lab;
}
