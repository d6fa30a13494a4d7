import type { StoreApi } from 'zustand/vanilla';
import type { Api } from '../../../shared/contract';
import type { AppSlice } from './app-slice';
import type { BuffersSlice } from './buffers-slice';
import type { DevicesSlice } from './devices-slice';
import type { DiscoverySlice } from './discovery-slice';
import type { LatencySlice } from './latency-slice';
import type { LinkSlice } from './link-slice';
import type { JobsSlice } from './jobs-slice';
import type { UiSlice } from './ui-slice';
import type { VaultSlice } from './vault-slice';
import type { WorkloadsSlice } from './workloads-slice';
import type { PkiSlice } from './pki-slice';

/** The part of `localStorage` the store uses; tests pass a Map-backed one. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface StoreDeps {
  api: Api;
  storage: KeyValueStorage;
  /** How long a burst of `devices:changed` events is collected before one re-fetch. */
  refreshDelayMs: number;
}

export type OutpostState = AppSlice & DevicesSlice & UiSlice & DiscoverySlice & BuffersSlice & WorkloadsSlice & VaultSlice & LatencySlice & LinkSlice & JobsSlice & PkiSlice;

export type SliceCreator<T> = (set: StoreApi<OutpostState>['setState'], get: StoreApi<OutpostState>['getState'], deps: StoreDeps) => T;
