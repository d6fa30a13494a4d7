import { cleanLinkOptions, type LinkOptions, type SiteLinkDefaults, type SiteLinkDefaultsChange } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface LinkSlice {
  /**
   * The technician's override of how to reach devices, used by every view that contacts one (Buffers, Workloads)
   * until cleared; never written to disk. Empty: each device's own settings, then the site defaults.
   */
  linkOverride: LinkOptions;
  setLinkOverride(link: LinkOptions): void;
  /** The site's defaults (user, port, key for devices without their own), kept by the core. */
  siteLinkDefaults: SiteLinkDefaults;
  setSiteLinkDefaults(defaults: SiteLinkDefaults): void;
  loadSiteLinkDefaults(): Promise<void>;
  saveSiteLinkDefaults(change: SiteLinkDefaultsChange): Promise<boolean>;
}

export const createLinkSlice: SliceCreator<LinkSlice> = (set, get, { api }) => ({
  linkOverride: {},
  setLinkOverride(link) {
    set({ linkOverride: cleanLinkOptions(link) });
  },
  siteLinkDefaults: {},
  setSiteLinkDefaults(defaults) {
    set({ siteLinkDefaults: defaults });
  },
  async loadSiteLinkDefaults() {
    try {
      set({ siteLinkDefaults: await api.invoke('link:defaults', {}) });
    } catch {
      // A core without site defaults (an older one): nothing to show, every view falls back to root / 22 / the laptop key.
    }
  },
  async saveSiteLinkDefaults(change) {
    try {
      set({ siteLinkDefaults: await api.invoke('link:defaults-set', change) });
      get().notify({ tone: 'success', title: 'Site defaults saved', message: 'Devices without their own login, port or key use them from the next connection.' });
      return true;
    } catch (err) {
      get().reportError(err, 'Site defaults not saved');
      return false;
    }
  },
});
