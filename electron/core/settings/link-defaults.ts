import { existsSync, statSync } from 'node:fs';
import { SiteLinkDefaults, type SiteLinkDefaultsChange } from '../../../shared/contract/link';
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

/**
 * The site's link defaults (user, port, key) in the laptop store, shared by the app, browser mode and the CLI through
 * `$OUTPOST_HOME`. Read on every dial, so a change applies to the next connection of any process.
 */
export class LinkDefaultsRepo {
  constructor(private readonly db: Db) {}

  get(): SiteLinkDefaults {
    const row = this.db.prepare('SELECT value FROM app_settings WHERE key = ?').get(KEY) as { value: string } | undefined;
    if (!row) return {};
    // A value a later version wrote that this one does not understand is ignored, not fatal to every dial.
    const parsed = SiteLinkDefaults.safeParse(JSON.parse(row.value));
    return parsed.success ? parsed.data : {};
  }

  set(change: SiteLinkDefaultsChange): SiteLinkDefaults {
    const next: Record<string, unknown> = { ...this.get() };
    for (const field of ['user', 'port', 'identityFile'] as const) {
      const v = change[field];
      if (v === null) delete next[field];
      else if (v !== undefined) next[field] = v;
    }
    const value = SiteLinkDefaults.parse(next);
    if (Object.keys(value).length === 0) this.db.prepare('DELETE FROM app_settings WHERE key = ?').run(KEY);
    else this.db.prepare('INSERT INTO app_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(KEY, JSON.stringify(value));
    return value;
  }
}

/** `link:defaults` and `link:defaults-set`. A key file that is not there is refused now, not at the next dial on site. */
export function registerLinkService(router: Router, bus: EventBus, repo: LinkDefaultsRepo): void {
  router.handle('link:defaults', () => repo.get());
  router.handle('link:defaults-set', (change) => {
    if (typeof change.identityFile === 'string') {
      const path = expandHome(change.identityFile);
      if (!existsSync(path) || !statSync(path).isFile()) throw new OutpostError('invalid-input', `no key file at ${change.identityFile} on this laptop`);
    }
    const next = repo.set(change);
    bus.emit('link:defaults-changed', next);
    return next;
  });
}
