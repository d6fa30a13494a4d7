import { z } from 'zod';
import { channel } from './define';
import { Device } from './devices';

/** Ports the sweep probes unless told otherwise: SSH, Docker (plain / TLS), MQTT (plain / TLS), HTTP(S). */
export const DEFAULT_SWEEP_PORTS = [22, 2375, 2376, 1883, 8883, 80, 443] as const;

/** The service types browsed continuously; the technician may add more. */
export const DEFAULT_MDNS_TYPES = ['_ssh._tcp', '_sftp-ssh._tcp', '_docker._tcp', '_workstation._tcp', '_mqtt._tcp', '_outpost._tcp'] as const;

const cidr = z.string().min(1).max(64);
const interfaceName = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:@-]+$/, 'an interface name (letters, digits, . : @ - _)');
const serviceType = z.string().regex(/^_[A-Za-z0-9-]{1,63}\._(tcp|udp)$/, 'a DNS-SD service type like _ssh._tcp');

export const ScanArgs = z
  .object({
    cidrs: z.array(cidr).max(64).optional(),
    ports: z.array(z.number().int().min(1).max(65535)).min(1).max(64).optional(),
    interfaces: z.array(interfaceName).max(32).optional(),
    mdns: z.boolean().default(true),
    sweep: z.boolean().default(true),
    serial: z.boolean().default(false),
    /** Extra serial paths to look at (e.g. a pty a console server exposes), besides the usual /dev ones. */
    serialPaths: z.array(z.string().min(1).max(4096)).max(64).optional(),
    serviceTypes: z.array(serviceType).max(32).optional(),
    /** Per-probe timeout (TCP connect, banner read, handshake). */
    timeoutMs: z.number().int().min(50).max(60_000).default(700),
    /** How long the one-shot mDNS browse listens for answers. */
    mdnsWindowMs: z.number().int().min(100).max(60_000).default(1200),
    /** Lets the sweep go past the /22 cap on the laptop's own subnets (never past /16). */
    wide: z.boolean().default(false),
  })
  .strict()
  .default({ mdns: true, sweep: true, serial: false, timeoutMs: 700, mdnsWindowMs: 1200, wide: false });
export type ScanArgs = z.output<typeof ScanArgs>;

export const ScanResult = z.object({
  devices: z.array(Device),
  /** Devices merged away because this scan proved two records were one physical device. */
  mergedAway: z.array(z.string()),
  stats: z.object({ hostsProbed: z.number().int(), probes: z.number().int(), mdnsPackets: z.number().int(), elapsedMs: z.number() }),
  /** The technician cancelled it: `devices` is what was found until then (nothing is marked gone). */
  cancelled: z.boolean().optional(),
});
export type ScanResult = z.output<typeof ScanResult>;

export const BrowseArgs = z
  .object({
    interfaces: z.array(interfaceName).max(32).optional(),
    serviceTypes: z.array(serviceType).max(32).optional(),
    /** How often known online devices are checked; a device that misses two checks goes stale. */
    livenessIntervalMs: z.number().int().min(200).max(600_000).default(5_000),
    /** Serial hot-plug poll period (0 = off). */
    serialPollMs: z.number().int().min(0).max(600_000).default(2_000),
    serialPaths: z.array(z.string().min(1).max(4096)).max(64).optional(),
    /** Re-sweep period (0 = off): devices that answer only a sweep (no mDNS) appear while browsing too. */
    sweepIntervalMs: z.number().int().min(0).max(3_600_000).default(0),
    /** What the re-sweep covers: these CIDRs, else the browsed interfaces' subnets (each capped at /22). */
    cidrs: z.array(cidr).max(64).optional(),
    ports: z.array(z.number().int().min(1).max(65535)).min(1).max(64).optional(),
  })
  .strict()
  .default({ livenessIntervalMs: 5_000, serialPollMs: 2_000, sweepIntervalMs: 0 });
export type BrowseArgs = z.output<typeof BrowseArgs>;

export const SerialPortInfo = z.object({
  path: z.string(),
  byId: z.string().optional(),
  vendorId: z.string().optional(),
  productId: z.string().optional(),
  serialNumber: z.string().optional(),
  manufacturer: z.string().optional(),
  product: z.string().optional(),
  via: z.enum(['serialport', 'sysfs', 'explicit']),
});
export type SerialPortInfo = z.output<typeof SerialPortInfo>;

export const PinnedHostKey = z.object({
  host: z.string(),
  port: z.number().int(),
  keyType: z.string(),
  fingerprint: z.string(),
  pinnedAt: z.string(),
});

const DeviceRef = z.string().min(1).max(253);

export const discoveryChannels = {
  'discovery:scan': channel(ScanArgs, ScanResult),
  'discovery:start': channel(BrowseArgs, z.object({ running: z.boolean(), interfaces: z.array(z.string()) })),
  'discovery:stop': channel(z.object({}).strict().default({}), z.object({ running: z.boolean() })),
  'discovery:serial-ports': channel(
    z.object({ serialPaths: z.array(z.string().min(1).max(4096)).max(64).optional() }).strict().default({}),
    z.array(SerialPortInfo),
  ),
  'trust:pin': channel(
    z
      .object({ device: DeviceRef, fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'an OpenSSH SHA256: fingerprint').optional(), yes: z.boolean().default(false), port: z.number().int().min(1).max(65535).optional() })
      .strict(),
    z.object({ host: z.string(), port: z.number().int(), fingerprint: z.string(), pinned: z.boolean(), previous: z.string().optional() }),
  ),
  /**
   * Regenerates the device's SSH host keys over its pinned connection (`ssh-keygen -A`, sshd restarted by its service
   * manager) and pins the new key, read over the old link before the restart. The fix for a shared host key.
   */
  'trust:regenerate': channel(
    z
      .object({
        device: DeviceRef,
        user: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/).optional(),
        port: z.number().int().min(1).max(65535).optional(),
        identityFile: z.string().min(1).max(4096).optional(),
      })
      .strict(),
    z.object({
      device: z.string(),
      name: z.string(),
      host: z.string(),
      port: z.number().int(),
      previous: z.string(),
      fingerprint: z.string(),
      keys: z.array(z.object({ type: z.string(), fingerprint: z.string() })),
      restartedVia: z.string(),
      pinned: z.boolean(),
    }),
  ),
  'trust:list': channel(z.object({}).strict().default({}), z.array(PinnedHostKey)),
  'trust:forget': channel(z.object({ device: DeviceRef, port: z.number().int().min(1).max(65535).optional() }).strict(), z.object({ forgotten: z.boolean() })),
  'ssh:install-key': channel(
    z
      .object({
        device: DeviceRef,
        user: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/).optional(),
        port: z.number().int().min(1).max(65535).optional(),
        password: z.string().max(1024).optional(),
        identityFile: z.string().min(1).max(4096).optional(),
        /** Keep the password in the encrypted vault (needs OUTPOST_PASSPHRASE or a passphrase file). */
        rememberPassword: z.boolean().default(false),
      })
      .strict(),
    z.object({ installed: z.boolean(), alreadyPresent: z.boolean(), publicKey: z.string(), verified: z.boolean() }),
  ),
};

export const discoveryEvents = {
  'discovery:progress': z.object({ done: z.number().int(), total: z.number().int() }),
  'discovery:serial-changed': z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
  /** A background re-sweep could not run (live discovery goes on with mDNS and liveness checks). */
  'discovery:resweep-failed': z.object({ message: z.string() }),
};
