import { z } from 'zod';
import { channel } from './define';

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

/**
 * The site's defaults: how to reach a device that has no login, port or key of its own (a technician sets them once,
 * e.g. every gateway at this plant takes `pi` on 2222 with the site key). Kept in the laptop's store.
 */
export const SiteLinkDefaults = z
  .object({
    user: SshUser.optional(),
    port: SshPort.optional(),
    identityFile: IdentityFile.optional(),
  })
  .strict();
export type SiteLinkDefaults = z.infer<typeof SiteLinkDefaults>;

// The resolver is zod-free (CLI commands and the renderer use it without building schemas).
export { BUILT_IN_LINK, cleanLinkOptions, describeLink, effectiveLink, siteDefaultsFor, type EffectiveLink, type LinkDefaultsTable, type LinkSource } from './link-resolve';

/** A change to the site defaults: a value sets it, null removes it (back to built-in), left out keeps it. */
export const SiteLinkDefaultsChange = z
  .object({
    user: SshUser.nullable().optional(),
    port: SshPort.nullable().optional(),
    identityFile: IdentityFile.nullable().optional(),
  })
  .strict();
export type SiteLinkDefaultsChange = z.infer<typeof SiteLinkDefaultsChange>;

/** A site, as the devices' `site` tag names it; left out: the defaults for every site. */
export const SiteName = z.string().trim().min(1).max(100);

export const LinkDefaultsTableSchema = z.object({ all: SiteLinkDefaults, sites: z.record(z.string(), SiteLinkDefaults) });

export const linkChannels = {
  'link:defaults': channel(z.object({ site: SiteName.optional() }).strict().default({}), SiteLinkDefaults),
  'link:defaults-set': channel(SiteLinkDefaultsChange.extend({ site: SiteName.optional() }).strict(), SiteLinkDefaults),
  /** Every set: for every site, and per site. */
  'link:defaults-all': channel(z.object({}).strict().default({}), LinkDefaultsTableSchema),
};

export const linkEvents = {
  'link:defaults-changed': LinkDefaultsTableSchema,
};
