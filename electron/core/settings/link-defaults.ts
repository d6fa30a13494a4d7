import { existsSync, statSync } from 'node:fs';
import { SiteLinkDefaults, type LinkDefaultsTable, type SiteLinkDefaultsChange } from '../../../shared/contract/link';
import { OutpostError } from '../../../shared/errors';
import type { EventBus, Router } from '../router';
import type { Db } from '../store/database';
import { expandHome } from '../transport/laptop-key';
import type { Migration } from '../store/migrations';

/** Core owns schema versions 1-9 (see store/migrations.ts). */
export const settingsMigration: Migration = {
  version: 3,
  name: 'settings: a key/value table for laptop-wide settings (site link defaults); device logins left at root/22 inherit',
  up: `
    CREATE TABLE app_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- Before site defaults existed every record got root / 22 written in; those are the built-in values, so they
    -- become "not set for this device" and a site default, once set, applies to them.
    UPDATE devices SET ssh = json_remove(ssh, '$.user') WHERE json_extract(ssh, '$.user') = 'root';
    UPDATE devices SET ssh = json_remove(ssh, '$.port') WHERE json_extract(ssh, '$.port') = 22;
  `,
};

const KEY = 'link.defaults';
const SITE_PREFIX = 'link.defaults.site:';
const keyOf = (site?: string) => (site === undefined ? KEY : `${SITE_PREFIX}${site}`);

function parse(value: string): SiteLinkDefaults {
  // A value a later version wrote that this one does not understand is ignored, not fatal to every dial.
  try {
    const parsed = SiteLinkDefaults.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/**
 * The link defaults (user, port, key) in the laptop store: one set for every site, and one per site (the devices'
 * `site` tag), shared by the app, browser mode and the CLI through `$OUTPOST_HOME`. Read on every dial, so a change
 * applies to the next connection of any process.
 */
export class LinkDefaultsRepo {
  constructor(private readonly db: Db) {}

  /** The set for one site (or, without a site, for every site) as stored: not merged. */
  get(site?: string): SiteLinkDefaults {
    const row = this.db.prepare('SELECT value FROM app_settings WHERE key = ?').get(keyOf(site)) as { value: string } | undefined;
    return row ? parse(row.value) : {};
  }

  table(): LinkDefaultsTable {
    const rows = this.db.prepare("SELECT key, value FROM app_settings WHERE key = ? OR key LIKE 'link.defaults.site:%'").all(KEY) as Array<{ key: string; value: string }>;
    const table: LinkDefaultsTable = { all: {}, sites: {} };
    for (const r of rows) {
      if (r.key === KEY) table.all = parse(r.value);
      else table.sites[r.key.slice(SITE_PREFIX.length)] = parse(r.value);
    }
    return table;
  }

  set(change: SiteLinkDefaultsChange & { site?: string }): SiteLinkDefaults {
    const next: Record<string, unknown> = { ...this.get(change.site) };
    for (const field of ['user', 'port', 'identityFile'] as const) {
      const v = change[field];
      if (v === null) delete next[field];
      else if (v !== undefined) next[field] = v;
    }
    const value = SiteLinkDefaults.parse(next);
    const key = keyOf(change.site);
    if (Object.keys(value).length === 0) this.db.prepare('DELETE FROM app_settings WHERE key = ?').run(key);
    else this.db.prepare('INSERT INTO app_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
    return value;
  }
}

/** `link:defaults*`. A key file that is not there is refused now, not at the next dial on site. */
export function registerLinkService(router: Router, bus: EventBus, repo: LinkDefaultsRepo): void {
  router.handle('link:defaults', ({ site }) => repo.get(site));
  router.handle('link:defaults-all', () => repo.table());
  router.handle('link:defaults-set', (change) => {
    if (typeof change.identityFile === 'string') {
      const path = expandHome(change.identityFile);
      if (!existsSync(path) || !statSync(path).isFile()) throw new OutpostError('invalid-input', `no key file at ${change.identityFile} on this laptop`);
    }
    const next = repo.set(change);
    bus.emit('link:defaults-changed', repo.table());
    return next;
  });
}
