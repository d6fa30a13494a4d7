import type { AppInfo, UpstreamReach } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface AppSlice {
  info: AppInfo | null;
  loadInfo(): Promise<void>;
  setOnline(online: boolean, upstream?: UpstreamReach): void;
}

export const createAppSlice: SliceCreator<AppSlice> = (set, get, { api }) => ({
  info: null,
  async loadInfo() {
    try {
      set({ info: await api.invoke('app:info', {}) });
    } catch (err) {
      get().reportError(err, 'Could not read the app status');
    }
  },
  setOnline(online, upstream) {
    const info = get().info;
    if (info && (info.online !== online || upstream)) set({ info: { ...info, online, upstream: upstream ?? info.upstream } });
  },
});
