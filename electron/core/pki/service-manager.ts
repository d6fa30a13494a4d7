import { OutpostError } from '../../../shared/errors';

/** How a device starts its services: found on the device, never assumed. */
export type InitSystem = 'systemd' | 'openrc' | 'sysv' | 'none';

/**
 * A POSIX-sh fragment printing `init=<systemd|openrc|sysv|none>` for the service whose init script would be
 * /etc/init.d/<name>; `name` is one of Outpost's own constants (docker, mosquitto), never device or user input.
 */
export function initProbe(name: 'docker' | 'mosquitto'): string {
  return `if [ -d /run/systemd/system ]; then init=systemd
elif command -v rc-service >/dev/null 2>&1 && [ -d /run/openrc ]; then init=openrc
elif [ -x /etc/init.d/${name} ]; then init=sysv
else init=none; fi
echo "init=$init"`;
}

export function parseInit(value: string | undefined): InitSystem {
  return value === 'systemd' || value === 'openrc' || value === 'sysv' ? value : 'none';
}

/** The restart through the device's service manager, as argv. */
export function serviceRestart(init: InitSystem, name: 'docker' | 'mosquitto'): string[] {
  switch (init) {
    case 'systemd':
      return name === 'docker' ? ['sh', '-c', 'systemctl daemon-reload && systemctl restart docker'] : ['systemctl', 'restart', name];
    case 'openrc':
      return ['rc-service', name, 'restart'];
    case 'sysv':
      return [`/etc/init.d/${name}`, 'restart'];
    default:
      throw new OutpostError('unsupported', `no service manager found for ${name} (no systemd, OpenRC or /etc/init.d/${name})`);
  }
}

/** `key=value` lines (values may be base64 where the script says so) as a map. */
export function parseKv(out: string): Map<string, string[]> {
  const kv = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), [...(kv.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
  }
  return kv;
}

export const fromBase64 = (v: string | undefined): string | null => (v === undefined ? null : Buffer.from(v, 'base64').toString('utf8'));
