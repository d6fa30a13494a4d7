import type { ArgsOf, Device, DeviceUpdate, ResultOf, ScanResult } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface ScanProgress {
  done: number;
  total: number;
}

/** What the device offers now, next to what the laptop pinned for it (if anything). */
export interface HostKeyCheck {
  deviceId: string;
  host: string;
  port: number;
  offered: string;
  pinned: string | undefined;
}

/** A refused connection or pin because the device's key is not the pinned one: shown loudly, old and new. */
export interface HostKeyAlert {
  host: string;
  port: number;
  expected: string;
  actual: string;
}

export type PinnedKey = ResultOf<'trust:list'>[number];

export interface DiscoverySlice {
  scanning: boolean;
  scanProgress: ScanProgress | null;
  lastScan: (ScanResult['stats'] & { found: number; finishedAt: string }) | null;
  selectedDeviceId: string | null;
  pinnedKeys: PinnedKey[];
  hostKeyAlert: HostKeyAlert | null;
  liveDiscovery: boolean;
  runScan(args: ArgsOf<'discovery:scan'>): Promise<ScanResult | null>;
  setScanProgress(progress: ScanProgress): void;
  /** Live discovery on or off; `args` carry the scan form's interfaces and subnets and the re-sweep period. */
  setLiveDiscovery(on: boolean, args?: BrowseStart): Promise<void>;
  /** The background re-sweep's last failure already shown: one notice per reason, not one per minute. */
  lastResweepError: string | null;
  /** Says once per distinct reason that the background re-sweep could not run. */
  resweepFailed(message: string): void;
  selectDevice(id: string | null): void;
  updateDevice(input: DeviceUpdate): Promise<Device | null>;
  loadPinnedKeys(): Promise<void>;
  /** Reads the key the device offers without pinning anything. */
  checkHostKey(device: Device): Promise<HostKeyCheck | null>;
  /** Pins exactly the fingerprint the technician confirmed; a different key on the wire is refused. */
  pinHostKey(device: Device, fingerprint: string): Promise<boolean>;
  /** Forgets the device's pinned key at every address it is known by; the next connection asks again. */
  forgetHostKey(device: Device, port: number): Promise<boolean>;
  dismissHostKeyAlert(): void;
  /** New host keys for the device over its pinned link, the new key pinned in the same step (shared host keys). */
  regenerateHostKeys(device: Device, link?: Omit<ArgsOf<'trust:regenerate'>, 'device'>): Promise<ResultOf<'trust:regenerate'> | null>;
  installLaptopKey(args: ArgsOf<'ssh:install-key'>): Promise<ResultOf<'ssh:install-key'> | null>;
  /** Looks for the device's container engine now (the Connection override applies); the device record says what answered. */
  locateEngine(device: Device): Promise<ResultOf<'workloads:locate-engine'> | null>;
}

export function hostKeyAlertOf(err: unknown): HostKeyAlert | null {
  if (!err || typeof err !== 'object') return null;
  const { kind, details } = err as { kind?: unknown; details?: Record<string, unknown> };
  if (kind !== 'host-key-changed' || !details) return null;
  const { host, port, expected, actual } = details;
  if (typeof host !== 'string' || typeof expected !== 'string' || typeof actual !== 'string') return null;
  return { host, port: typeof port === 'number' ? port : 22, expected, actual };
}

/** The scan form's part of `discovery:start`: interfaces, subnets, ports and the re-sweep period. */
export type BrowseStart = ArgsOf<'discovery:start'>;

export const createDiscoverySlice: SliceCreator<DiscoverySlice> = (set, get, { api }) => ({
  scanning: false,
  lastResweepError: null,
  scanProgress: null,
  lastScan: null,
  selectedDeviceId: null,
  pinnedKeys: [],
  hostKeyAlert: null,
  liveDiscovery: false,
  async runScan(args) {
    set({ scanning: true, scanProgress: null });
    try {
      const result = await api.invoke('discovery:scan', args);
      set({ lastScan: { ...result.stats, found: result.devices.length, finishedAt: new Date().toISOString() } });
      if (result.cancelled) get().notify({ tone: 'warning', title: 'Scan cancelled', message: `${result.devices.length} devices found until then are in the inventory` });
      return result;
    } catch (err) {
      get().reportError(err, 'The scan failed');
      return null;
    } finally {
      set({ scanning: false });
    }
  },
  setScanProgress(progress) {
    set({ scanProgress: progress });
  },
  async setLiveDiscovery(on, args = {}) {
    try {
      const { running } = on ? await api.invoke('discovery:start', args) : await api.invoke('discovery:stop', {});
      set({ lastResweepError: null });
      set({ liveDiscovery: running });
    } catch (err) {
      get().reportError(err, on ? 'Could not start live discovery' : 'Could not stop live discovery');
    }
  },
  resweepFailed(message) {
    if (message === get().lastResweepError) return;
    set({ lastResweepError: message });
    get().notify({ tone: 'warning', title: 'Live re-sweep skipped', message });
  },
  selectDevice(id) {
    set({ selectedDeviceId: id });
  },
  async updateDevice(input) {
    try {
      const device = await api.invoke('devices:update', input);
      get().notify({ tone: 'success', title: 'Device saved', message: device.name });
      return device;
    } catch (err) {
      get().reportError(err, 'Could not save the device');
      return null;
    }
  },
  async loadPinnedKeys() {
    try {
      set({ pinnedKeys: await api.invoke('trust:list', {}) });
    } catch (err) {
      get().reportError(err, 'Could not read the pinned host keys');
    }
  },
  async checkHostKey(device) {
    try {
      const r = await api.invoke('trust:pin', { device: device.id });
      return { deviceId: device.id, host: r.host, port: r.port, offered: r.fingerprint, pinned: r.previous };
    } catch (err) {
      get().reportError(err, `Could not read ${device.name}'s host key`);
      return null;
    }
  },
  async pinHostKey(device, fingerprint) {
    try {
      const r = await api.invoke('trust:pin', { device: device.id, fingerprint });
      get().notify({ tone: 'success', title: 'Host key pinned', message: `${r.host}:${r.port} ${r.fingerprint}` });
      await get().loadPinnedKeys();
      return r.pinned;
    } catch (err) {
      const alert = hostKeyAlertOf(err);
      if (alert) set({ hostKeyAlert: alert });
      get().reportError(err, 'Host key not pinned');
      return false;
    }
  },
  async forgetHostKey(device, port) {
    try {
      const r = await api.invoke('trust:forget', { device: device.id, port });
      get().notify({ tone: 'success', title: r.forgotten ? 'Pinned key forgotten' : 'No key was pinned', message: `${device.name}: the next connection asks to trust its key again.` });
      await get().loadPinnedKeys();
      return true;
    } catch (err) {
      get().reportError(err, 'Pinned key not forgotten');
      return false;
    }
  },
  dismissHostKeyAlert() {
    set({ hostKeyAlert: null });
  },
  async regenerateHostKeys(device, link = {}) {
    try {
      const r = await api.invoke('trust:regenerate', { device: device.id, ...link });
      get().notify({ tone: 'success', title: 'New host keys pinned', message: `${r.name}: ${r.fingerprint} (sshd restarted ${r.restartedVia})` });
      // Its clones lose their shared-host-key mark too: read the whole inventory again.
      await Promise.all([get().loadPinnedKeys(), get().loadDevices()]);
      return r;
    } catch (err) {
      const alert = hostKeyAlertOf(err);
      if (alert) set({ hostKeyAlert: alert });
      get().reportError(err, `Could not regenerate ${device.name}'s host keys`);
      return null;
    }
  },
  async locateEngine(device) {
    try {
      const found = await api.invoke('workloads:locate-engine', { device: device.id, link: get().linkOverride });
      get().notify({ tone: 'success', title: 'Engine found', message: `${device.name}: ${found.product} ${found.version ?? ''} at ${found.socket}` });
      return found;
    } catch (err) {
      get().reportError(err, `No engine found on ${device.name}`);
      return null;
    } finally {
      // Found or not, the device record now says where Outpost looked.
      await get().loadDevices();
    }
  },
  async installLaptopKey(args) {
    try {
      const r = await api.invoke('ssh:install-key', args);
      get().notify({
        tone: r.verified ? 'success' : 'error',
        title: r.alreadyPresent ? 'Laptop key already installed' : 'Laptop key installed',
        message: r.verified ? 'Logged in with the laptop key alone.' : 'The key was written, but logging in with it failed.',
      });
      return r;
    } catch (err) {
      const alert = hostKeyAlertOf(err);
      if (alert) set({ hostKeyAlert: alert });
      get().reportError(err, 'Could not install the laptop key');
      return null;
    }
  },
});

