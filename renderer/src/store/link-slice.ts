import { cleanLinkOptions, type LinkOptions } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface LinkSlice {
  /**
   * The technician's override of how to reach devices, used by every view that contacts one (Buffers, Workloads)
   * until cleared; never written to disk. Empty: each device's own settings, then the site defaults.
   */
  linkOverride: LinkOptions;
  setLinkOverride(link: LinkOptions): void;
}

export const createLinkSlice: SliceCreator<LinkSlice> = (set) => ({
  linkOverride: {},
  setLinkOverride(link) {
    set({ linkOverride: cleanLinkOptions(link) });
  },
});
