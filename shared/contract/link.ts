import { z } from 'zod';

export const SshUser = z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'a login name (letters, digits, . _ -)');
export const SshPort = z.number().int().min(1).max(65535);
export const IdentityFile = z.string().min(1).max(4096);
export const HostKeyFingerprint = z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'an OpenSSH SHA256: fingerprint');

/**
 * How to reach a device for one call or one run — the one shape every door uses (the CLI's `--user`, `--port`,
 * `--identity`, `--yes`, `--fingerprint`; the UI's link override; the `link` argument of every channel that
 * contacts a device). Whatever is left out comes from the device's own settings in the inventory, then the
 * site's defaults, then root / 22 / the laptop key.
 */
export const LinkOptions = z
  .object({
    user: SshUser.optional(),
    port: SshPort.optional(),
    /** A private key file on this laptop; the laptop's own key (and ssh-agent) are tried too. */
    identityFile: IdentityFile.optional(),
    /** Pin the device's host key if none is pinned yet (never replaces a changed key). */
    acceptNewHostKey: z.boolean().optional(),
    /** Pin the device's host key only if it has this fingerprint. */
    expectedFingerprint: HostKeyFingerprint.optional(),
  })
  .strict();
export type LinkOptions = z.infer<typeof LinkOptions>;

/** Removes empty strings and unset fields, so an untouched override form sends `{}`. */
export function cleanLinkOptions(link: LinkOptions | undefined): LinkOptions {
  const out: LinkOptions = {};
  if (!link) return out;
  if (link.user?.trim()) out.user = link.user.trim();
  if (typeof link.port === 'number') out.port = link.port;
  if (link.identityFile?.trim()) out.identityFile = link.identityFile.trim();
  if (link.acceptNewHostKey) out.acceptNewHostKey = true;
  if (link.expectedFingerprint?.trim()) out.expectedFingerprint = link.expectedFingerprint.trim();
  return out;
}

/** Where each part of an effective link came from, so every view can say what it will use and why. */
export type LinkSource = 'this run' | 'device' | 'site default' | 'built-in';

export interface EffectiveLink {
  user: string;
  port: number;
  /** Null: the laptop's own key (and ssh-agent). */
  identityFile: string | null;
  from: { user: LinkSource; port: LinkSource; identityFile: LinkSource };
}

interface DeviceLinkFields {
  ssh: { user?: string; port?: number; identityFile?: string };
}

/**
 * What a call will use to reach a device: the per-run override first, then the device's own settings in the
 * inventory, then built-in root / 22 / the laptop key. The core dials with it and the UI shows it.
 */
export function effectiveLink(device: DeviceLinkFields, override: LinkOptions | undefined): EffectiveLink {
  const o = cleanLinkOptions(override);
  const pick = <T>(run: T | undefined, own: T | undefined, builtIn: T): [T, LinkSource] =>
    run !== undefined ? [run, 'this run'] : own !== undefined ? [own, 'device'] : [builtIn, 'built-in'];
  const [user, userFrom] = pick(o.user, device.ssh.user, 'root');
  const [port, portFrom] = pick(o.port, device.ssh.port, 22);
  const [identityFile, keyFrom] = pick<string | null>(o.identityFile, device.ssh.identityFile, null);
  return { user, port, identityFile, from: { user: userFrom, port: portFrom, identityFile: keyFrom } };
}
