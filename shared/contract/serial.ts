import { z } from 'zod';
import { channel } from './define';

const PortPath = z.string().min(1).max(4096);
const Baud = z.number().int().min(50).max(4_000_000);

export const SerialSettingsArgs = z
  .object({
    baudRate: Baud.default(115200),
    dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
    parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    rtscts: z.boolean().default(false),
    xonxoff: z.boolean().default(false),
  })
  .strict();
export type SerialSettingsArgs = z.input<typeof SerialSettingsArgs>;

/** Line-ending maps and local echo (tio's map flags), applied to what is shown and sent, never to the log. */
export const LineMapArgs = z
  .object({
    inCrToNl: z.boolean().optional(),
    inNlToCrNl: z.boolean().optional(),
    inIgnoreCr: z.boolean().optional(),
    outCrToNl: z.boolean().optional(),
    outCrToCrNl: z.boolean().optional(),
    outDelToBs: z.boolean().optional(),
    localEcho: z.boolean().optional(),
  })
  .strict();
export type LineMapArgs = z.input<typeof LineMapArgs>;

/** How to reach a console's shell: the port, its speed (or `auto`), the login. */
const ConsoleLogin = {
  path: PortPath,
  baud: z.union([Baud, z.literal('auto')]).default(115200),
  user: z.string().min(1).max(64).default('root'),
  password: z.string().max(1024).optional(),
  settings: SerialSettingsArgs.omit({ baudRate: true }).partial().optional(),
  timeoutMs: z.number().int().min(1_000).max(600_000).default(30_000),
};

export const BaudTrial = z.object({ baud: z.number().int(), score: z.number(), bytes: z.number().int(), reason: z.string() });
export const BaudChoice = z.object({ baud: z.number().int().nullable(), confidence: z.number(), tried: z.array(BaudTrial) });
export type BaudChoice = z.output<typeof BaudChoice>;

export const HostKeyInfo = z.object({ type: z.string(), fingerprint: z.string(), publicKey: z.string() });

export const SerialIdentity = z.object({
  path: z.string(),
  baud: z.number().int(),
  confidence: z.number(),
  hostname: z.string(),
  macs: z.array(z.string()),
  addresses: z.array(z.string()),
  interfaces: z.array(z.object({ interface: z.string(), address: z.string(), prefix: z.number().int(), family: z.enum(['inet', 'inet6']) })),
  os: z.string(),
  arch: z.string(),
  serial: z.string().nullable(),
  sshd: z.boolean(),
  docker: z.boolean(),
  dockerTools: z.array(z.string()),
  hostKeys: z.array(HostKeyInfo),
  /** The inventory record the console's device was merged into. */
  deviceId: z.string(),
});
export type SerialIdentity = z.output<typeof SerialIdentity>;

export const NetworkSettingArgs = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('dhcp'), interface: z.string().min(1).max(15) }).strict(),
  z
    .object({
      mode: z.literal('static'),
      interface: z.string().min(1).max(15),
      address: z.string().min(7).max(15),
      prefix: z.number().int().min(1).max(32),
      gateway: z.string().max(15).optional(),
      dns: z.array(z.string().max(15)).max(4).optional(),
    })
    .strict(),
]);

/** What a bring-up does; every field optional (only what is set runs). */
export const BringUpArgs = z
  .object({
    authorizeLaptopKey: z.boolean().default(false),
    sshd: z.boolean().default(false),
    hostname: z.string().max(63).optional(),
    network: NetworkSettingArgs.optional(),
    clock: z.boolean().default(false),
  })
  .strict();
export type BringUpArgs = z.input<typeof BringUpArgs>;

/**
 * A site profile: the same bring-up for the next twenty devices. `{n}` in the hostname pattern is the device's
 * number at the site; a static address comes from the pool, the next one no device of this profile holds yet.
 */
export const SiteProfile = z
  .object({
    name: z.string().min(1).max(64).regex(/^[A-Za-z0-9 ._-]+$/, 'letters, digits, space . _ -'),
    user: z.string().min(1).max(64).default('root'),
    authorizeLaptopKey: z.boolean().default(true),
    sshd: z.boolean().default(true),
    hostnamePattern: z.string().max(63).optional(),
    network: z
      .discriminatedUnion('mode', [
        z.object({ mode: z.literal('dhcp'), interface: z.string().min(1).max(15) }).strict(),
        z
          .object({
            mode: z.literal('static'),
            interface: z.string().min(1).max(15),
            poolFrom: z.string().min(7).max(15),
            poolTo: z.string().min(7).max(15),
            prefix: z.number().int().min(1).max(32),
            gateway: z.string().max(15).optional(),
            dns: z.array(z.string().max(15)).max(4).optional(),
          })
          .strict(),
      ])
      .optional(),
    clock: z.boolean().default(true),
    /** Per-device values handed out so far, by the device's first MAC (or hostname when it has none). */
    assigned: z.record(z.string(), z.object({ n: z.number().int(), address: z.string().optional(), hostname: z.string().optional() })).default({}),
  })
  .strict();
export type SiteProfile = z.output<typeof SiteProfile>;

export const BringUpActionInfo = z.object({ id: z.string(), title: z.string(), commands: z.array(z.string()) });
const ActionResult = BringUpActionInfo.extend({ ok: z.boolean(), output: z.string(), error: z.object({ kind: z.string(), message: z.string() }).optional() });

const BringUpTarget = z.object({ ...ConsoleLogin, bringUp: BringUpArgs.optional(), profile: z.string().min(1).max(64).optional() }).strict();

const BySession = { sessionId: z.string().min(1).max(100) };

export const serialChannels = {
  'serial:autobaud': channel(z.object({ path: PortPath, rates: z.array(Baud).min(1).max(20).optional() }).strict(), BaudChoice),
  'serial:identify': channel(z.object(ConsoleLogin).strict(), SerialIdentity),
  /** Logs in, asks the device what it runs, and answers the exact commands a bring-up would type. Changes nothing. */
  'serial:plan': channel(BringUpTarget, z.object({ baud: z.number().int(), environment: z.record(z.string(), z.unknown()), actions: z.array(BringUpActionInfo), values: z.record(z.string(), z.unknown()) })),
  'serial:provision': channel(
    BringUpTarget,
    z.object({ baud: z.number().int(), actions: z.array(ActionResult), identity: SerialIdentity, pinned: z.array(z.object({ host: z.string(), port: z.number().int(), fingerprint: z.string() })) }),
  ),
  'serial:send-file': channel(
    z.object({ ...ConsoleLogin, data: z.string().max(8_000_000), to: z.string().min(1).max(4096), mode: z.string().regex(/^[0-7]{3,4}$/).default('0644'), chunkBytes: z.number().int().min(48).max(3072).default(768) }).strict(),
    z.object({ to: z.string(), bytes: z.number().int(), sha256: z.string(), chunks: z.number().int(), verified: z.boolean() }),
  ),
  'serial:profiles': channel(z.object({}).strict().default({}), z.array(SiteProfile)),
  'serial:profile-save': channel(SiteProfile, SiteProfile),
  'serial:profile-delete': channel(z.object({ name: z.string().min(1).max(64) }).strict(), z.object({ deleted: z.boolean() })),
  /** Modem lines and BREAK on an open terminal session's port. */
  'serial:signal': channel(z.object({ ...BySession, dtr: z.boolean().optional(), rts: z.boolean().optional(), brk: z.boolean().optional() }).strict(), z.object({ ok: z.boolean() })),
  /** Changes an open terminal session's speed, framing or maps without closing it. */
  'serial:configure': channel(z.object({ ...BySession, settings: SerialSettingsArgs.partial().optional(), map: LineMapArgs.optional() }).strict(), z.object({ ok: z.boolean() })),
  /** The session's timestamped log (raw bytes from the device), for saving on the laptop. */
  'serial:log': channel(z.object(BySession).strict(), z.object({ file: z.string(), text: z.string(), bytes: z.number().int() })),
};

export const serialEvents = {
  /** An open serial terminal's port: `waiting` for it to (re)appear, `open`, `lost` (unplugged), `closed`. */
  'serial:state': z.object({ sessionId: z.string(), path: z.string(), state: z.enum(['waiting', 'open', 'lost', 'closed']), message: z.string() }),
  'serial:progress': z.object({ path: z.string(), what: z.string(), done: z.number(), total: z.number() }),
};
