import { z } from 'zod';
import {
  DeviceFlush as DeviceFlushSchema,
  type ArgsOf,
  type BufferScan,
  type DeviceFlush,
  type PayloadOf,
  type ResultOf,
  type SegmentPreview,
  type StoredSegment,
  type UpstreamStreamStatus,
  type PruneResult,
  type UpstreamSettings,
} from '../../../shared/contract';
import { formatBytes } from '../views/buffers/transfer-format';
import { hostKeyAlertOf } from './discovery-slice';
import type { SliceCreator } from './types';

export type FlushProgressEvent = PayloadOf<'flush:progress'>;

export interface DeviceBuffers {
  status: 'scanning' | 'ready' | 'error';
  scan?: BufferScan;
  error?: { kind: string; message: string };
  scannedAt?: string;
}

export type StoreFilter = NonNullable<ArgsOf<'store:list'>>;
export type PruneSelection = Omit<ArgsOf<'store:prune'>, 'dryRun'>;

export interface BuffersSlice {
  deviceBuffers: Record<string, DeviceBuffers>;
  flushing: boolean;
  /** deviceId → stream → the newest progress event. */
  flushProgress: Record<string, Record<string, FlushProgressEvent>>;
  flushResults: DeviceFlush[] | null;
  storeFilter: StoreFilter;
  storeSegments: StoredSegment[];
  storeTotals: { totalBytes: number; quotaBytes: number | null } | null;
  segmentPreview: { segment: StoredSegment; preview: SegmentPreview } | null;
  upstream: UpstreamStreamStatus[];
  pushing: boolean;
  /** The configured upstream and whether the app pushes by itself once it answers (null until loaded). */
  upstreamSettings: UpstreamSettings | null;
  /** The dry run the technician looked at, and the selection it was made for (confirm runs exactly that). */
  prunePlan: { args: PruneSelection; result: PruneResult } | null;
  pruning: boolean;
  scanBuffers(deviceIds: readonly string[]): Promise<void>;
  flushBuffers(deviceIds: readonly string[]): Promise<DeviceFlush[] | null>;
  applyFlushProgress(event: FlushProgressEvent): void;
  loadStore(filter?: StoreFilter): Promise<void>;
  previewSegment(id: number | null): Promise<void>;
  exportStore(dir: string): Promise<ResultOf<'store:export'> | null>;
  loadUpstream(): Promise<void>;
  previewPrune(args: PruneSelection): Promise<PruneResult | null>;
  confirmPrune(): Promise<PruneResult | null>;
  cancelPrune(): void;
  setStoreQuota(bytes: number | null): Promise<void>;
  pushUpstream(args: ArgsOf<'upstream:push'>): Promise<ResultOf<'upstream:push'> | null>;
  loadUpstreamSettings(): Promise<void>;
  changeUpstreamSettings(change: Partial<UpstreamSettings>): Promise<void>;
  /** Checks the upstream now (the status bar follows through app:online-changed). */
  checkUpstream(): Promise<void>;
  /** An automatic push ended: refresh the queue and say how it went. */
  automaticPushEnded(error: { kind: string; message: string } | null): void;
  /** A device's buffer locations: read (no change) or set, checked on the device when locations are named. */
  bufferConfig(args: Omit<ArgsOf<'buffers:config'>, 'link'>): Promise<ResultOf<'buffers:config'> | null>;
}

const FlushResults = z.array(DeviceFlushSchema);

/** A failed flush still carries every device's partial result in its details: show those, not just the message. */
export function partialFlushResults(err: unknown): DeviceFlush[] | null {
  if (!err || typeof err !== 'object') return null;
  const details = (err as { details?: { devices?: unknown } }).details;
  const parsed = FlushResults.safeParse(details?.devices);
  return parsed.success ? parsed.data : null;
}

function errorOf(err: unknown): { kind: string; message: string } {
  const e = (err ?? {}) as { kind?: unknown; message?: unknown };
  return { kind: typeof e.kind === 'string' ? e.kind : 'internal', message: typeof e.message === 'string' ? e.message : String(err) };
}

export const createBuffersSlice: SliceCreator<BuffersSlice> = (set, get, { api }) => {
  const setDevice = (id: string, value: DeviceBuffers) => set({ deviceBuffers: { ...get().deviceBuffers, [id]: value } });

  return {
    deviceBuffers: {},
    flushing: false,
    flushProgress: {},
    flushResults: null,
    storeFilter: { limit: 1000 },
    storeSegments: [],
    storeTotals: null,
    segmentPreview: null,
    upstream: [],
    pushing: false,
    upstreamSettings: null,
    prunePlan: null,
    pruning: false,
    async scanBuffers(deviceIds) {
      const link = get().linkOverride;
      await Promise.all(
        deviceIds.map(async (deviceId) => {
          setDevice(deviceId, { ...get().deviceBuffers[deviceId], status: 'scanning', error: undefined });
          try {
            const scan = await api.invoke('buffers:scan', { deviceId, link });
            setDevice(deviceId, { status: 'ready', scan, scannedAt: new Date().toISOString() });
          } catch (err) {
            const alert = hostKeyAlertOf(err);
            if (alert) set({ hostKeyAlert: alert });
            setDevice(deviceId, { status: 'error', error: errorOf(err), scannedAt: new Date().toISOString() });
          }
        }),
      );
    },
    async flushBuffers(deviceIds) {
      if (deviceIds.length === 0) return null;
      const link = get().linkOverride;
      const cleared = { ...get().flushProgress };
      for (const id of deviceIds) delete cleared[id];
      set({ flushing: true, flushResults: null, flushProgress: cleared });
      let results: DeviceFlush[] | null = null;
      try {
        results = (await api.invoke('buffers:flush', { devices: [...deviceIds], link })).devices;
      } catch (err) {
        results = partialFlushResults(err);
        const alert = hostKeyAlertOf(err);
        if (alert) set({ hostKeyAlert: alert });
        get().reportError(err, 'The flush did not finish on every device');
      } finally {
        set({ flushing: false, flushResults: results });
      }
      await Promise.all([get().scanBuffers(deviceIds), get().loadStore(), get().loadUpstream()]);
      return results;
    },
    applyFlushProgress(event) {
      const current = get().flushProgress;
      set({ flushProgress: { ...current, [event.deviceId]: { ...current[event.deviceId], [event.stream]: event } } });
    },
    async loadStore(filter) {
      const next = filter ?? get().storeFilter;
      set({ storeFilter: next });
      try {
        const r = await api.invoke('store:list', next);
        set({ storeSegments: r.segments, storeTotals: { totalBytes: r.totalBytes, quotaBytes: r.quotaBytes } });
      } catch (err) {
        get().reportError(err, 'Could not list the laptop store');
      }
    },
    async previewSegment(id) {
      if (id === null) return set({ segmentPreview: null });
      try {
        set({ segmentPreview: await api.invoke('store:get', { id, previewLines: 40 }) });
      } catch (err) {
        get().reportError(err, 'Could not open the segment');
      }
    },
    async exportStore(dir) {
      try {
        const filter = get().storeFilter;
        const r = await api.invoke('store:export', { ...filter, limit: 100_000, dir });
        get().notify({ tone: 'success', title: 'Export written', message: `${r.files} files to ${r.dir}` });
        return r;
      } catch (err) {
        get().reportError(err, 'Could not export');
        return null;
      }
    },
    async previewPrune(args) {
      set({ pruning: true });
      try {
        const result = await api.invoke('store:prune', { ...args, dryRun: true });
        set({ prunePlan: { args, result } });
        return result;
      } catch (err) {
        get().reportError(err, 'Could not preview the prune');
        return null;
      } finally {
        set({ pruning: false });
      }
    },
    async confirmPrune() {
      const plan = get().prunePlan;
      if (!plan) return null;
      set({ pruning: true });
      try {
        const result = await api.invoke('store:prune', { ...plan.args, dryRun: false });
        set({ prunePlan: null, storeTotals: { totalBytes: result.usedBytes, quotaBytes: result.quotaBytes } });
        get().notify({ tone: 'success', title: 'Store pruned', message: `${result.segments} segments deleted, ${formatBytes(result.freedBytes)} freed` });
        await get().loadStore();
        return result;
      } catch (err) {
        get().reportError(err, 'Prune failed');
        return null;
      } finally {
        set({ pruning: false });
      }
    },
    cancelPrune() {
      set({ prunePlan: null });
    },
    async setStoreQuota(bytes) {
      try {
        const q = await api.invoke('store:quota', { bytes });
        set({ storeTotals: { totalBytes: q.usedBytes, quotaBytes: q.quotaBytes } });
      } catch (err) {
        get().reportError(err, 'Could not set the quota');
      }
    },
    async loadUpstream() {
      try {
        set({ upstream: (await api.invoke('upstream:status', {})).streams });
      } catch (err) {
        get().reportError(err, 'Could not read the upstream queue');
      }
    },
    async bufferConfig(args) {
      const change = args.spools !== undefined || args.outboxes !== undefined || args.ack !== undefined || args.reset === true;
      try {
        const r = await api.invoke('buffers:config', { ...args, link: get().linkOverride });
        if (change) get().notify({ tone: r.check?.missing.length ? 'warning' : 'success', title: 'Buffer locations saved', message: r.defaults ? 'the defaults apply again' : `${r.spools.length} spool director${r.spools.length === 1 ? 'y' : 'ies'}, ${r.outboxes.length} outbox${r.outboxes.length === 1 ? '' : 'es'}` });
        return r;
      } catch (err) {
        get().reportError(err, change ? 'Buffer locations not saved' : 'Could not read the buffer locations');
        return null;
      }
    },
    async pushUpstream(args) {
      set({ pushing: true });
      try {
        const r = await api.invoke('upstream:push', args);
        set({ upstream: r.streams });
        get().notify({ tone: 'success', title: 'Forwarded upstream', message: `${r.recordsForwarded} records in ${r.segmentsForwarded} segments` });
        // The push remembered its target as the configured upstream.
        void get().loadUpstreamSettings();
        return r;
      } catch (err) {
        get().reportError(err, 'Upstream push failed');
        await get().loadUpstream();
        return null;
      } finally {
        set({ pushing: false });
      }
    },
    async loadUpstreamSettings() {
      try {
        set({ upstreamSettings: await api.invoke('upstream:settings', {}) });
      } catch (err) {
        get().reportError(err, 'Could not read the upstream settings');
      }
    },
    async changeUpstreamSettings(change) {
      try {
        set({ upstreamSettings: await api.invoke('upstream:settings', change) });
      } catch (err) {
        get().reportError(err, 'Could not save the upstream settings');
      }
    },
    async checkUpstream() {
      try {
        const upstream = await api.invoke('upstream:check', {});
        get().setOnline(upstream.state === 'upstream-reachable', upstream);
      } catch (err) {
        get().reportError(err, 'Could not check the upstream');
      }
    },
    automaticPushEnded(error) {
      void get().loadUpstream();
      if (error) get().notify({ tone: 'error', title: 'Automatic upstream push failed', message: `${error.message} — see the queue; it is tried again when the upstream next becomes reachable` });
      else get().notify({ tone: 'success', title: 'Forwarded upstream', message: 'The waiting queue was pushed as soon as the upstream answered' });
    },
  };
};

