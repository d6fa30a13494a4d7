import { createStore, type StoreApi } from 'zustand/vanilla';
import { createAppSlice } from './app-slice';
import { createBuffersSlice } from './buffers-slice';
import { createDevicesSlice } from './devices-slice';
import { createDiscoverySlice } from './discovery-slice';
import { createLatencySlice } from './latency-slice';
import { createLinkSlice } from './link-slice';
import { createJobsSlice } from './jobs-slice';
import type { OutpostState, StoreDeps } from './types';
import { createUiSlice } from './ui-slice';
import { createVaultSlice } from './vault-slice';
import { createWorkloadsSlice } from './workloads-slice';
import { createPkiSlice } from './pki-slice';

export type { OutpostState, StoreDeps, KeyValueStorage } from './types';
export { VIEW_IDS, type ViewId, type ColorScheme, type Notice } from './ui-slice';

export type OutpostStore = StoreApi<OutpostState>;

/** One store, three slices; each slice gets the Api through `deps`, so specs pass a fake one. */
export function createOutpostStore(deps: StoreDeps): OutpostStore {
  return createStore<OutpostState>()((set, get) => ({
    ...createAppSlice(set, get, deps),
    ...createDevicesSlice(set, get, deps),
    ...createUiSlice(set, get, deps),
    ...createWorkloadsSlice(set, get, deps),
    ...createDiscoverySlice(set, get, deps),
    ...createBuffersSlice(set, get, deps),
    ...createLatencySlice(set, get, deps),
    ...createVaultSlice(set, get, deps),
    ...createLinkSlice(set, get, deps),
    ...createJobsSlice(set, get, deps),
    ...createPkiSlice(set, get, deps),
  }));
}

/**
 * Loads what the shell shows first and follows the core's change events. Returns the disposer that
 * unsubscribes and drops a pending re-fetch.
 */
export function connectStore(store: OutpostStore, deps: Pick<StoreDeps, 'api'>): () => void {
  const { api } = deps;
  const offDevices = api.on('devices:changed', () => store.getState().scheduleDevicesRefresh());
  const offOnline = api.on('app:online-changed', ({ online, upstream }) => store.getState().setOnline(online, upstream));
  const offScan = api.on('discovery:progress', (progress) => store.getState().setScanProgress(progress));
  const offFlush = api.on('flush:progress', (event) => store.getState().applyFlushProgress(event));
  const offPushed = api.on('upstream:pushed', ({ error }) => store.getState().automaticPushEnded(error));
  const offResweep = api.on('discovery:resweep-failed', ({ message }) => store.getState().resweepFailed(message));
  const offVault = api.on('vault:changed', (status) => store.getState().setVault(status));
  const offSamples = api.on('latency:samples', (batch) => store.getState().liveSamples.apply(batch));
  const offThreshold = api.on('latency:threshold', (event) => store.getState().applyThresholdEvent(event));
  const offSeries = api.on('latency:series-changed', () => void store.getState().loadLatencySeries());
  const offAb = api.on('latency:ab-progress', (event) => store.getState().abProgressEvent(event));
  void store.getState().loadLatencySeries();
  const offJobs = api.on('jobs:changed', ({ jobs }) => store.getState().setJobs(jobs));
  const offLinkDefaults = api.on('link:defaults-changed', (table) => store.getState().setLinkDefaults(table));
  void store.getState().loadLinkDefaults();
  const offPki = api.on('pki:changed', () => void store.getState().loadPki());
  const offPkiProgress = api.on('pki:progress', (event) => store.getState().applyPkiProgress(event));
  void store.getState().loadPki(true);
  void store.getState().loadInfo();
  void store.getState().loadVault();
  void store.getState().loadDevices();
  void store.getState().loadJobs();
  return () => {
    offDevices();
    offOnline();
    offScan();
    offFlush();
    offPushed();
    offResweep();
    offSamples();
    offThreshold();
    offSeries();
    offAb();
    offVault();
    offJobs();
    offLinkDefaults();
    offPki();
    offPkiProgress();
    store.getState().cancelDevicesRefresh();
  };
}
