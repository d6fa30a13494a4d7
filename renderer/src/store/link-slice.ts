import { cleanLinkOptions, type LinkDefaultsTable, type LinkOptions, type SiteLinkDefaultsChange } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface LinkSlice {
  /**
   * The technician's override of how to reach devices, used by every view that contacts one (Buffers, Workloads)
   * until cleared; never written to disk. Empty: each device's own settings, then the site defaults.
   */
  linkOverride: LinkOptions;
  setLinkOverride(link: LinkOptions): void;
  /** The link defaults kept by the core: for every site, and per site (the devices' `site` tag). */
  linkDefaults: LinkDefaultsTable;
  setLinkDefaults(table: LinkDefaultsTable): void;
  loadLinkDefaults(): Promise<void>;
  /** Changes the defaults of one site (`site` left out: of every site). */
  saveLinkDefaults(change: SiteLinkDefaultsChange & { site?: string }): Promise<boolean>;
}

export const createLinkSlice: SliceCreator<LinkSlice> = (set, get, { api }) => ({
  linkOverride: {},
  setLinkOverride(link) {
    set({ linkOverride: cleanLinkOptions(link) });
  },
  linkDefaults: { all: {}, sites: {} },
  setLinkDefaults(table) {
    set({ linkDefaults: table });
  },
  async loadLinkDefaults() {
    try {
      set({ linkDefaults: await api.invoke('link:defaults-all', {}) });
    } catch {
      // A core without link defaults (an older one): nothing to show, every view falls back to root / 22 / the laptop key.
    }
  },
  async saveLinkDefaults(change) {
    try {
      await api.invoke('link:defaults-set', change);
      set({ linkDefaults: await api.invoke('link:defaults-all', {}) });
      const where = change.site === undefined ? 'Every device' : `Devices tagged site=${change.site}`;
      get().notify({ tone: 'success', title: 'Site defaults saved', message: `${where} without its own login, port or key uses them from the next connection.` });
      return true;
    } catch (err) {
      get().reportError(err, 'Site defaults not saved');
      return false;
    }
  },
});
