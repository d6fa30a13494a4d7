import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { SerialPortInfo } from '../../../shared/contract';
import { sanitizeText } from './sanitize';

/** SerialPort.list() shells out to udevadm and crashed the whole process where it is missing (measured here). */
export function hasUdevadm(pathEnv = process.env.PATH ?? ''): boolean {
  return pathEnv.split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'udevadm'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface SysfsReader {
  readdir(path: string): string[];
  read(path: string): string | undefined;
  realpath(path: string): string | undefined;
  readlink(path: string): string | undefined;
}

export const realSysfs: SysfsReader = {
  readdir: (p) => {
    try {
      return readdirSync(p);
    } catch {
      return [];
    }
  },
  read: (p) => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch {
      return undefined;
    }
  },
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  },
  readlink: (p) => {
    try {
      return readlinkSync(p);
    } catch {
      return undefined;
    }
  },
};

const TTY_NAME = /^tty(USB|ACM|S|AMA|THS|XRUSB)\d+$/;

/** USB attributes live a few levels above the tty's device link (interface → device): walk up until idVendor appears. */
function usbAttributes(fs: SysfsReader, ttyName: string): Partial<SerialPortInfo> {
  let dir = fs.realpath(`/sys/class/tty/${ttyName}/device`);
  for (let depth = 0; dir && depth < 6; depth++, dir = dir.slice(0, dir.lastIndexOf('/'))) {
    const vendorId = fs.read(`${dir}/idVendor`);
    if (vendorId) {
      const clean = (v: string | undefined) => (v ? sanitizeText(v, 128) : undefined);
      return {
        vendorId: clean(vendorId),
        productId: clean(fs.read(`${dir}/idProduct`)),
        serialNumber: clean(fs.read(`${dir}/serial`)),
        manufacturer: clean(fs.read(`${dir}/manufacturer`)),
        product: clean(fs.read(`${dir}/product`)),
      };
    }
  }
  return {};
}

/**
 * Serial ports from sysfs and /dev alone: `/dev/serial/by-id` links, then ttyUSB*, ttyACM*, and on-board UARTs
 * (ttyS*, ttyAMA*) that have a real port behind them (the kernel lists 4-32 ttyS placeholders on most PCs).
 */
export function listFromSysfs(fs: SysfsReader = realSysfs): SerialPortInfo[] {
  const byIdFor = new Map<string, string>();
  for (const link of fs.readdir('/dev/serial/by-id')) {
    const target = fs.realpath(`/dev/serial/by-id/${link}`);
    if (target) byIdFor.set(target, `/dev/serial/by-id/${link}`);
  }
  const out: SerialPortInfo[] = [];
  for (const name of fs.readdir('/sys/class/tty').sort()) {
    if (!TTY_NAME.test(name)) continue;
    const path = `/dev/${name}`;
    const usb = usbAttributes(fs, name);
    if (name.startsWith('ttyS')) {
      const type = fs.read(`/sys/class/tty/${name}/type`);
      if (!fs.readlink(`/sys/class/tty/${name}/device`) || type === '0') continue;
    }
    out.push({ path, byId: byIdFor.get(path), ...usb, via: 'sysfs' });
  }
  return out;
}

interface SerialPortListEntry {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

/** Paths given by the technician (or a console server's pty): listed when they exist. */
function explicitPorts(paths: readonly string[]): SerialPortInfo[] {
  return paths.filter((p) => existsSync(p)).map((path) => ({ path, via: 'explicit' as const }));
}

/** Every serial port: SerialPort.list() where udevadm exists, sysfs otherwise, plus explicit paths. */
export async function listSerialPorts(extraPaths: readonly string[] = []): Promise<SerialPortInfo[]> {
  let ports: SerialPortInfo[];
  if (hasUdevadm() && udevadmWorks()) {
    const { SerialPort } = await import('serialport');
    const listed = (await SerialPort.list()) as SerialPortListEntry[];
    ports = listed.map((p) => ({
      path: p.path,
      vendorId: p.vendorId,
      productId: p.productId,
      serialNumber: p.serialNumber ? sanitizeText(p.serialNumber, 128) : undefined,
      manufacturer: p.manufacturer ? sanitizeText(p.manufacturer, 128) : undefined,
      via: 'serialport' as const,
    }));
  } else {
    ports = listFromSysfs();
  }
  const known = new Set(ports.map((p) => p.path));
  return [...ports, ...explicitPorts(extraPaths).filter((p) => !known.has(p.path))];
}

/** udevadm on PATH can still be a stub without a udev database (containers): ask it once, cheaply. */
function udevadmWorks(): boolean {
  try {
    execFileSync('udevadm', ['--version'], { timeout: 2_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return true;
  } catch {
    return false;
  }
}

/** Hot-plug as a diff of two listings. */
export function diffPorts(before: readonly SerialPortInfo[], after: readonly SerialPortInfo[]): { added: string[]; removed: string[] } {
  const was = new Set(before.map((p) => p.path));
  const now = new Set(after.map((p) => p.path));
  return { added: [...now].filter((p) => !was.has(p)), removed: [...was].filter((p) => !now.has(p)) };
}
