import { z } from 'zod';
import { channel } from './define';
import { IdentityFile, SshPort, SshUser } from './link';

const hostOrIp = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.:_%-]+$/, 'a hostname or an IP address (letters, digits, . : - _)');

export const DeviceSource = z.enum(['manual', 'mdns', 'sweep', 'serial']);
export type DeviceSource = z.infer<typeof DeviceSource>;

export const DeviceService = z.object({
  type: z.string().max(100),
  port: z.number().int().min(0).max(65535),
  txt: z.record(z.string(), z.string()).default({}),
});
export type DeviceService = z.infer<typeof DeviceService>;

/** Where the device's container engine answered, as Outpost last found it (see engines/locate.ts). */
export const EngineFound = z.object({
  /** The engine's unix socket on the device. */
  socket: z.string(),
  /** Why that place: the device's own setting, DOCKER_HOST in its login environment, or a well-known place. */
  source: z.enum(['setting', 'DOCKER_HOST', 'docker', 'balena-engine', 'podman', 'rootless-docker', 'rootless-podman']),
  product: z.enum(['docker', 'podman', 'balena-engine']),
  version: z.string().optional(),
  apiVersion: z.string().optional(),
  /** Whether the device runs systemd (Podman's healthchecks need its timers). */
  systemd: z.boolean().optional(),
  foundAt: z.string(),
  /** Every place looked at before it, in order, and why it was passed over. */
  tried: z.array(z.object({ socket: z.string(), source: z.string(), result: z.string() })).default([]),
});
export type EngineFound = z.infer<typeof EngineFound>;

/** The last search that found no engine: when, and every place tried with why it failed (cleared once one answers). */
export const EngineNotFound = z.object({
  at: z.string(),
  tried: z.array(z.object({ socket: z.string(), source: z.string(), result: z.string() })),
});
export type EngineNotFound = z.infer<typeof EngineNotFound>;

export const EngineSocketPath = z
  .string()
  .min(2)
  .max(1024)
  .regex(/^\/[A-Za-z0-9._/@-]*$/, 'an absolute socket path (letters, digits, . _ - @ /)');

/**
 * The flush's compression, decided per device from two measurements over the link itself: the link's rate (random
 * bytes, which nothing compresses) and how fast the device's `gzip -1` takes the spool's own data, and how small it
 * gets. gzip only when the compressed stream is clearly faster than the plain one; re-measured after a while (the
 * technician may plug in elsewhere).
 */
export const FlushCompression = z.object({
  choice: z.enum(['gzip', 'none']),
  /** Link rate in bytes/s (null: not measured, e.g. data that does not compress). */
  linkBps: z.number().nullable(),
  /** gzip -1 input bytes/s on the device (null: the device has no gzip). */
  compressBps: z.number().nullable(),
  /** Input bytes per compressed byte on a sample of the spool. */
  ratio: z.number().nullable(),
  reason: z.string(),
  decidedAt: z.string(),
});
export type FlushCompression = z.infer<typeof FlushCompression>;

export const Device = z.object({
  id: z.string(),
  name: z.string(),
  hostnames: z.array(z.string()),
  addresses: z.array(z.string()),
  macs: z.array(z.string()),
  sources: z.array(DeviceSource),
  services: z.array(DeviceService),
  ssh: z
    .object({
      /** The device's own SSH port (set by the technician, or where discovery found sshd); unset: the site's, else 22. */
      port: z.number().int().optional(),
      /** The device's own login; unset: the site's default user, else root. */
      user: z.string().optional(),
      /** The private key file (on this laptop) the technician set for this device; else the site's, else the laptop key. */
      identityFile: z.string().optional(),
      banner: z.string().optional(),
      hostKeyFingerprint: z.string().optional(),
      /** AES instructions in the device's CPU (from its /proc/cpuinfo at first connection); null = could not tell. */
      cpuAes: z.boolean().nullable().optional(),
      /** The SSH cipher Outpost asks this device for, chosen for its CPU (see cpuAes). */
      cipher: z.string().optional(),
      /** Whether flushes are compressed on the device, and the measurements that decided it (see FlushCompression). */
      compression: FlushCompression.optional(),
      /**
       * Other inventory records (ids) whose SSH host key is this one's: devices flashed from one image. The key
       * cannot tell them apart; regenerate host keys on each. Derived on every read, never stored.
       */
      sharedHostKeyWith: z.array(z.string()).optional(),
    })
    .default({}),
  docker: z
    .object({
      apiVersion: z.string().optional(),
      tls: z.boolean().optional(),
      port: z.number().int().optional(),
      /** The technician's setting: the engine socket on this device, tried before any other place. */
      socket: z.string().optional(),
      engine: EngineFound.optional(),
      engineNotFound: EngineNotFound.optional(),
      /** The site CA whose certificates Docker TLS was installed with: the engine is then reached over mTLS. */
      caId: z.string().optional(),
    })
    .nullable()
    .default(null),
  serialPath: z.string().nullable().default(null),
  tags: z.object({ site: z.string().optional(), role: z.string().optional() }).catchall(z.string()).default({}),
  notes: z.string().default(''),
  state: z.enum(['online', 'stale', 'unknown']).default('unknown'),
  firstSeen: z.string(),
  lastSeen: z.string(),
});
export type Device = z.infer<typeof Device>;

/**
 * A record with nothing known yet: no identifiers, no sources, services or tags, the default SSH login, state
 * `unknown`, first and last seen at `seenAt`. Whoever creates a device (a discovery merge, a spec) fills in what it knows.
 */
export function blankDevice(id: string, seenAt: string, known: Partial<Device> = {}): Device {
  return {
    id,
    name: 'device',
    hostnames: [],
    addresses: [],
    macs: [],
    sources: [],
    services: [],
    ssh: {},
    docker: null,
    serialPath: null,
    tags: {},
    notes: '',
    state: 'unknown',
    firstSeen: seenAt,
    lastSeen: seenAt,
    ...known,
  };
}

export const DeviceAdd = z
  .object({
    name: z.string().min(1).max(100).optional(),
    host: hostOrIp.optional(),
    serialPath: z.string().min(1).max(4096).optional(),
    sshPort: SshPort.optional(),
    sshUser: SshUser.optional(),
    sshIdentityFile: IdentityFile.optional(),
    tags: z.record(z.string(), z.string()).optional(),
    notes: z.string().max(10_000).optional(),
  })
  .strict()
  .refine((a) => a.host !== undefined || a.serialPath !== undefined, { message: 'give a host (name or IP) or a serial path' });
export type DeviceAdd = z.infer<typeof DeviceAdd>;

export const DeviceUpdate = z
  .object({
    id: z.string().min(1),
    name: z.string().min(1).max(100).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    notes: z.string().max(10_000).optional(),
    /** The device's own port and login; null goes back to the site's default (else 22 / root). */
    sshPort: SshPort.nullable().optional(),
    sshUser: SshUser.nullable().optional(),
    /** A key file for this device; null goes back to the site's key or the laptop key. */
    sshIdentityFile: IdentityFile.nullable().optional(),
    /** The engine's socket on this device, tried first; null: look in the usual places. */
    engineSocket: EngineSocketPath.nullable().optional(),
    addresses: z.array(hostOrIp).optional(),
  })
  .strict();
export type DeviceUpdate = z.infer<typeof DeviceUpdate>;

const ById = z.object({ id: z.string().min(1) }).strict();

export const devicesChannels = {
  'devices:list': channel(z.object({ query: z.string().max(200).optional() }).strict().default({}), z.array(Device)),
  'devices:get': channel(ById, Device),
  'devices:add': channel(DeviceAdd, Device),
  'devices:update': channel(DeviceUpdate, Device),
  'devices:remove': channel(ById, z.object({ removed: z.boolean() })),
};

export const devicesEvents = {
  'devices:changed': z.object({ ids: z.array(z.string()) }),
};
