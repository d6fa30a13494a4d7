import type { AppInfo } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface AppSlice {
  info: AppInfo | null;
  loadInfo(): Promise<void>;
  setOnline(online: boolean): void;
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
  setOnline(online) {
    const info = get().info;
    if (info && info.online !== online) set({ info: { ...info, online } });
  },
});
