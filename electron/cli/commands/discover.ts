import type { Command } from 'commander';
import type { Device } from '../../../shared/contract';
import { collect, leaf, parseIntOption, runWith, type CliIo } from '../context';
import { table } from '../table';

/** The fields a technician (or a script) needs from a discovery pass, in a stable shape. */
/** One warning per device whose host key another record has: the key cannot tell them apart. */
export function sharedHostKeyWarnings(devices: readonly Device[], inventory: readonly Device[]): string[] {
  const nameOf = (id: string) => inventory.find((d) => d.id === id)?.name ?? id;
  return devices
    .filter((d) => d.ssh.sharedHostKeyWith?.length)
    .map((d) => `warning: SHARED HOST KEY: ${d.name} has the same SSH host key as ${(d.ssh.sharedHostKeyWith ?? []).map(nameOf).join(', ')} (flashed from one image?); give it its own: outpost trust regenerate ${d.name}`);
}

export function discoveredView(d: Device) {
  return {
    id: d.id,
    name: d.name,
    hostnames: d.hostnames,
    addresses: d.addresses,
    macs: d.macs,
    sources: d.sources,
    state: d.state,
    services: d.services.map((s) => ({ type: s.type, port: s.port, txt: s.txt })),
    ssh: { banner: d.ssh.banner, hostKeyFingerprint: d.ssh.hostKeyFingerprint, ...(d.ssh.sharedHostKeyWith ? { sharedHostKeyWith: d.ssh.sharedHostKeyWith } : {}) },
    docker: d.docker ? { apiVersion: d.docker.apiVersion, tls: d.docker.tls } : null,
    serialPath: d.serialPath,
  };
}

interface DiscoverOptions {
  cidr?: string[];
  mdns: boolean;
  sweep: boolean;
  serial?: boolean;
  serialPath?: string[];
  timeout?: number;
  interface?: string[];
  port?: number[];
  wide?: boolean;
}

export function registerDiscover(program: Command, io: CliIo): void {
  leaf(program, 'discover', 'find the devices around you: mDNS, a TCP sweep of the local subnets, serial ports')
    .option('--cidr <cidr>', 'subnet to sweep (repeatable; default: this laptop’s own subnets, each capped at /22)', collect)
    .option('--no-mdns', 'skip the mDNS / DNS-SD browse')
    .option('--no-sweep', 'skip the TCP sweep')
    .option('--serial', 'list serial ports too')
    .option('--serial-path <path>', 'an extra serial port path to include (repeatable)', collect)
    .option('--timeout <ms>', 'per-probe timeout in milliseconds (default 700)', parseIntOption('--timeout'))
    .option('--interface <name>', 'network interface to use (repeatable; default: every real one)', collect)
    .option('--port <port>', 'TCP port to probe (repeatable; default 22 2375 2376 1883 8883 80 443)', (v: string, prev: number[] = []) => [...prev, parseIntOption('--port')(v)])
    .option('--wide', 'sweep the laptop’s whole subnets, past the /22 cap (never past /16)')
    .action(
      runWith(io, async ({ api, log }, opts: DiscoverOptions) => {
        const off = api.on('discovery:progress', ({ done, total }) => {
          if (done === total) log(`probed ${total / 2} hosts`);
        });
        try {
          const result = await api.invoke('discovery:scan', {
            cidrs: opts.cidr,
            interfaces: opts.interface,
            ports: opts.port,
            mdns: opts.mdns,
            sweep: opts.sweep,
            serial: Boolean(opts.serial || opts.serialPath?.length),
            serialPaths: opts.serialPath,
            timeoutMs: opts.timeout,
            wide: Boolean(opts.wide),
          });
          // Ctrl-C: the devices found until then are printed (and kept in the inventory); exit 130.
          if (result.cancelled) {
            log(`cancelled: ${result.devices.length} devices found so far`);
            io.setExitCode(130);
          }
          log(`${result.devices.length} devices in ${result.stats.elapsedMs} ms (${result.stats.probes} probes, ${result.stats.mdnsPackets} mDNS packets)`);
          const view = result.devices.map(discoveredView);
          const human = view.length
            ? table(
                ['NAME', 'ADDRESS', 'MAC', 'SOURCES', 'SERVICES', 'SSH HOST KEY'],
                view.map((d) => [d.name, d.addresses[0] ?? d.serialPath ?? '', d.macs[0], d.sources.join(','), d.services.map((s) => s.port).join(','), `${d.ssh.hostKeyFingerprint ?? ''}${d.ssh.sharedHostKeyWith?.length ? ' SHARED' : ''}`]),
              )
            : 'No devices found.';
          for (const line of sharedHostKeyWarnings(result.devices, await api.invoke('devices:list', {}))) log(line);
          return { data: view, human };
        } finally {
          off();
        }
      }),
    );
}
