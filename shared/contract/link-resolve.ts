// How a call reaches a device, resolved in one place. Plain TypeScript, no zod: the CLI's commands and the renderer
// use it without building the contract's schemas (link.ts re-exports it beside the schemas).

/** The fields of `LinkOptions` (link.ts) the resolver reads. */
interface LinkFields {
  user?: string;
  port?: number;
  identityFile?: string;
  acceptNewHostKey?: boolean;
  expectedFingerprint?: string;
}

/** Removes empty strings and unset fields, so an untouched override form sends `{}`. */
export function cleanLinkOptions<T extends LinkFields>(link: T | undefined): LinkFields {
  const out: LinkFields = {};
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

interface SiteFields {
  user?: string;
  port?: number;
  identityFile?: string;
}

/**
 * Every set of defaults the laptop keeps: `all` for every site, and per site (the devices' `site` tag) what differs
 * there — a technician who works at several plants sets each once.
 */
export interface LinkDefaultsTable {
  all: SiteFields;
  sites: Record<string, SiteFields>;
}

/** The defaults a device gets: its site's (by its `site` tag) field by field over the ones for every site. */
export function siteDefaultsFor(table: LinkDefaultsTable | undefined, device: { tags?: { site?: string } }): SiteFields {
  const site = device.tags?.site;
  const own = site !== undefined ? table?.sites[site] : undefined;
  return { ...table?.all, ...own };
}

/** Built-in values, used when neither the run, the device nor the site says otherwise. */
export const BUILT_IN_LINK = { user: 'root', port: 22 } as const;

/**
 * What a call will use to reach a device — the one resolver every door uses (the core dials with it, the UI and the
 * CLI show it): the per-run override first, then the device's own settings in the inventory, then the site's
 * defaults, then built-in root / 22 / the laptop key.
 */
export function effectiveLink(device: DeviceLinkFields, override: LinkFields | undefined, site: SiteFields = {}): EffectiveLink {
  const o = cleanLinkOptions(override);
  const pick = <T>(run: T | undefined, own: T | undefined, siteValue: T | undefined, builtIn: T): [T, LinkSource] =>
    run !== undefined ? [run, 'this run'] : own !== undefined ? [own, 'device'] : siteValue !== undefined ? [siteValue, 'site default'] : [builtIn, 'built-in'];
  const [user, userFrom] = pick(o.user, device.ssh.user, site.user, BUILT_IN_LINK.user as string);
  const [port, portFrom] = pick(o.port, device.ssh.port, site.port, BUILT_IN_LINK.port as number);
  const [identityFile, keyFrom] = pick<string | null>(o.identityFile, device.ssh.identityFile, site.identityFile, null);
  return { user, port, identityFile, from: { user: userFrom, port: portFrom, identityFile: keyFrom } };
}

/** One line for a technician: `pi@10.0.4.17:2222, key site_ed25519 (user: site default, …)`. */
export function describeLink(link: EffectiveLink, host: string): string {
  const key = link.identityFile ? `key ${link.identityFile}` : 'the laptop key';
  return `${link.user}@${host}:${link.port}, ${key} (user: ${link.from.user}, port: ${link.from.port}, key: ${link.from.identityFile})`;
}
