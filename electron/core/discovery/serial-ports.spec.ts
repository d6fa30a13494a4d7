import { describe, expect, it } from 'vitest';
import { diffPorts, hasUdevadm, listFromSysfs, type SysfsReader } from './serial-ports';

function fakeSysfs(files: Record<string, string>, dirs: Record<string, string[]>, links: Record<string, string>): SysfsReader {
  return {
    readdir: (p) => dirs[p] ?? [],
    read: (p) => files[p],
    realpath: (p) => links[p],
    readlink: (p) => links[p],
  };
}

describe('serial ports without udevadm', () => {
  it('reads USB attributes, by-id links, and skips ttyS placeholders', () => {
    const usbDev = '/sys/devices/pci0000:00/usb1/1-1';
    const fs = fakeSysfs(
      {
        [`${usbDev}/idVendor`]: '0403',
        [`${usbDev}/idProduct`]: '6001',
        [`${usbDev}/serial`]: 'A50285BI',
        [`${usbDev}/manufacturer`]: 'FTDI\u001b[31m',
        [`${usbDev}/product`]: 'FT232R USB UART',
        '/sys/class/tty/ttyS0/type': '4',
        '/sys/class/tty/ttyS1/type': '0',
      },
      { '/sys/class/tty': ['tty0', 'ttyS1', 'ttyUSB0', 'ttyS0', 'ptmx'], '/dev/serial/by-id': ['usb-FTDI_FT232R_A50285BI-if00-port0'] },
      {
        '/sys/class/tty/ttyUSB0/device': `${usbDev}/1-1:1.0/ttyUSB0`,
        '/dev/serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0': '/dev/ttyUSB0',
        '/sys/class/tty/ttyS0/device': '/sys/devices/pnp0/00:04',
        '/sys/class/tty/ttyS1/device': '/sys/devices/platform/serial8250',
      },
    );
    expect(listFromSysfs(fs)).toEqual([
      { path: '/dev/ttyS0', byId: undefined, via: 'sysfs' },
      {
        path: '/dev/ttyUSB0',
        byId: '/dev/serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0',
        vendorId: '0403',
        productId: '6001',
        serialNumber: 'A50285BI',
        manufacturer: 'FTDI',
        product: 'FT232R USB UART',
        via: 'sysfs',
      },
    ]);
  });

  it('finds udevadm only where PATH has it', () => {
    expect(hasUdevadm('/nonexistent-a:/nonexistent-b')).toBe(false);
  });

  it('diffs listings into hot-plug events', () => {
    const a = [{ path: '/dev/ttyUSB0', via: 'sysfs' as const }];
    const b = [{ path: '/dev/ttyACM0', via: 'sysfs' as const }];
    expect(diffPorts(a, b)).toEqual({ added: ['/dev/ttyACM0'], removed: ['/dev/ttyUSB0'] });
  });
});
