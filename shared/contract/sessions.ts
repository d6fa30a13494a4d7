import { z } from 'zod';
import { channel } from './define';
import { LinkOptions } from './link';
import { LineMapArgs, SerialSettingsArgs } from './serial';

const DeviceRef = z.string().min(1).max(200);
const Cols = z.number().int().min(1).max(1000);
const Rows = z.number().int().min(1).max(500);
/** Bytes on the wire are base64: every transport (IPC, WebSocket, in-process JSON) carries them unchanged. */
const Base64 = z.string().max(8_000_000);

/** A command inside a running container, on the device's engine, with a TTY. */
const DockerExecTarget = z
  .object({ kind: z.literal('docker-exec'), device: DeviceRef, container: z.string().min(1).max(200), cmd: z.array(z.string()).min(1).max(64).optional(), link: LinkOptions.optional(), cols: Cols, rows: Rows })
  .strict();
/** A login shell on the device itself, over its persistent SSH connection. */
const SshShellTarget = z.object({ kind: z.literal('ssh-shell'), device: DeviceRef, link: LinkOptions.optional(), cols: Cols, rows: Rows }).strict();

/** A serial console on the laptop's port; it reopens by itself when an unplugged adapter returns. */
const SerialTarget = z
  .object({ kind: z.literal('serial'), path: z.string().min(1).max(4096), settings: SerialSettingsArgs.prefault({}), map: LineMapArgs.prefault({}), cols: Cols, rows: Rows })
  .strict();

export const SessionTarget = z.discriminatedUnion('kind', [DockerExecTarget, SshShellTarget, SerialTarget]);
export type SessionTarget = z.input<typeof SessionTarget>;
export type SessionKind = z.infer<typeof SessionTarget>['kind'];

const BySession = { sessionId: z.string().min(1).max(100) };

/**
 * One shape for every byte stream (terminals today): open → write / resize → data events → exit.
 * The consumer acknowledges the bytes it has rendered with `sessions:ack`; the producer pauses its source once
 * the unacknowledged bytes pass the session's window, so a chatty command cannot flood the renderer.
 */
export const sessionsChannels = {
  'sessions:open': channel(SessionTarget, z.object({ sessionId: z.string(), windowBytes: z.number().int() })),
  'sessions:write': channel(z.object({ ...BySession, data: Base64 }).strict(), z.object({ written: z.number().int() })),
  'sessions:resize': channel(z.object({ ...BySession, cols: Cols, rows: Rows }).strict(), z.object({ resized: z.boolean() })),
  'sessions:ack': channel(z.object({ ...BySession, bytes: z.number().int().min(0) }).strict(), z.object({ unacknowledged: z.number().int() })),
  'sessions:close': channel(z.object(BySession).strict(), z.object({ closed: z.boolean() })),
  'sessions:list': channel(
    z.object({}).strict().default({}),
    z.array(z.object({ sessionId: z.string(), kind: z.enum(['docker-exec', 'ssh-shell', 'serial']), deviceId: z.string(), title: z.string(), paused: z.boolean(), unacknowledged: z.number().int() })),
  ),
};

export const sessionsEvents = {
  'sessions:data': z.object({ sessionId: z.string(), data: z.string() }),
  'sessions:exit': z.object({ sessionId: z.string(), code: z.number().int().nullable(), error: z.object({ kind: z.string(), message: z.string() }).optional() }),
};
