import type { Device, DeviceAdd } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface DevicesSlice {
  devices: Device[];
  /** True until the first `devices:list` answer arrives (or fails). */
  devicesLoading: boolean;
  loadDevices(): Promise<void>;
  /** Collects bursts of change events (a sweep can report dozens per second) into one re-fetch. */
  scheduleDevicesRefresh(): void;
  cancelDevicesRefresh(): void;
  addDevice(input: DeviceAdd): Promise<Device | null>;
  removeDevice(id: string): Promise<boolean>;
}

export const createDevicesSlice: SliceCreator<DevicesSlice> = (set, get, { api, refreshDelayMs }) => {
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  // Answers can overtake each other; only the newest request may write the list.
  let latestRequest = 0;

  return {
    devices: [],
    devicesLoading: true,
    async loadDevices() {
      const request = ++latestRequest;
      try {
        const devices = await api.invoke('devices:list', {});
        if (request === latestRequest) set({ devices, devicesLoading: false });
      } catch (err) {
        if (request === latestRequest) set({ devicesLoading: false });
        get().reportError(err, 'Could not load the device inventory');
      }
    },
    scheduleDevicesRefresh() {
      if (refreshTimer !== undefined) clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => {
        refreshTimer = undefined;
        void get().loadDevices();
      }, refreshDelayMs);
    },
    cancelDevicesRefresh() {
      if (refreshTimer !== undefined) clearTimeout(refreshTimer);
      refreshTimer = undefined;
    },
    async addDevice(input) {
      try {
        const device = await api.invoke('devices:add', input);
        get().notify({ tone: 'success', title: 'Device added', message: device.name });
        return device;
      } catch (err) {
        get().reportError(err, 'Could not add the device');
        return null;
      }
    },
    async removeDevice(id) {
      try {
        const { removed } = await api.invoke('devices:remove', { id });
        return removed;
      } catch (err) {
        get().reportError(err, 'Could not remove the device');
        return false;
      }
    },
  };
};
