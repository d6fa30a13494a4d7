import type { AbReport, ArgsOf, PayloadOf, RecordingInfo, ResultOf, SeriesInfo, TargetSuggestion, Thresholds, ThresholdState } from '../../../shared/contract';
import { LiveSamples } from './live-samples';
import type { SliceCreator } from './types';

export type AbArgs = Omit<ArgsOf<'latency:ab'>, 'link'>;
export type OpenedRecording = ResultOf<'latency:recording-open'>;

export interface LatencySlice {
  /** Samples outside React state (see LiveSamples); this object is never replaced. */
  liveSamples: LiveSamples;
  latencySeries: SeriesInfo[];
  /** Threshold state per series, from the core's events; drives the graph's colour and the Devices badge. */
  latencyStates: Record<string, ThresholdState>;
  latencySuggestions: Record<string, TargetSuggestion[]>;
  recordings: RecordingInfo[];
  openedRecording: OpenedRecording | null;
  abReports: AbReport[];
  abRunning: boolean;
  abProgress: string[];
  loadLatencySeries(): Promise<void>;
  startProbe(args: Omit<ArgsOf<'latency:start'>, 'link'>): Promise<boolean>;
  stopProbe(seriesId: string): Promise<void>;
  removeProbe(seriesId: string): Promise<void>;
  setThresholds(seriesId: string, thresholds: Thresholds): Promise<void>;
  loadSuggestions(device: string): Promise<void>;
  applyThresholdEvent(event: PayloadOf<'latency:threshold'>): void;
  loadRecordings(): Promise<void>;
  saveRecording(name: string, seriesIds: string[]): Promise<void>;
  openRecording(id: string | null): Promise<void>;
  exportRecording(id: string): Promise<string | null>;
  deleteRecording(id: string): Promise<void>;
  runAb(args: AbArgs): Promise<AbReport | null>;
  abProgressEvent(event: PayloadOf<'latency:ab-progress'>): void;
  loadAbHistory(device?: string): Promise<void>;
}

/** Devices with at least one series over a threshold, and which: the Devices list shows a badge for them. */
export function latencyBreaches(series: SeriesInfo[], states: Record<string, ThresholdState>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of series) {
    const state = states[s.id] ?? s.state;
    if (state === 'p95' || state === 'loss') (out[s.deviceId] ??= []).push(`${s.target}: ${state === 'p95' ? 'p95 over limit' : 'loss over limit'}`);
  }
  return out;
}

export const createLatencySlice: SliceCreator<LatencySlice> = (set, get, { api }) => {
  const link = () => get().linkOverride;
  const guard = async <T>(title: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (err) {
      get().reportError(err, title);
      return null;
    }
  };
  return {
    liveSamples: new LiveSamples(),
    latencySeries: [],
    latencyStates: {},
    latencySuggestions: {},
    recordings: [],
    openedRecording: null,
    abReports: [],
    abRunning: false,
    abProgress: [],
    async loadLatencySeries() {
      const list = await guard('Could not list latency probes', () => api.invoke('latency:list', {}));
      if (!list) return;
      const live = get().liveSamples;
      // History for series this page has not seen yet (opened after they started, or after a reload).
      await Promise.all(list.filter((s) => !live.hasHistory(s.id)).map(async (s) => live.load(await api.invoke('latency:window', { seriesId: s.id }))));
      set({ latencySeries: list, latencyStates: Object.fromEntries(list.map((s) => [s.id, get().latencyStates[s.id] ?? s.state])) });
    },
    async startProbe(args) {
      const info = await guard(`Could not start ${args.target}`, () => api.invoke('latency:start', { ...args, link: link() }));
      if (!info) return false;
      await get().loadLatencySeries();
      return true;
    },
    async stopProbe(seriesId) {
      await guard('Could not stop the probe', () => api.invoke('latency:stop', { seriesId }));
      await get().loadLatencySeries();
    },
    async removeProbe(seriesId) {
      await guard('Could not remove the probe', () => api.invoke('latency:remove', { seriesId }));
      get().liveSamples.drop(seriesId);
      await get().loadLatencySeries();
    },
    async setThresholds(seriesId, thresholds) {
      const info = await guard('Could not set the limits', () => api.invoke('latency:thresholds', { seriesId, thresholds }));
      if (info) set({ latencySeries: get().latencySeries.map((s) => (s.id === seriesId ? info : s)), latencyStates: { ...get().latencyStates, [seriesId]: info.state } });
    },
    async loadSuggestions(device) {
      const list = await guard('Could not suggest targets', () => api.invoke('latency:suggest', { device }));
      if (list) set({ latencySuggestions: { ...get().latencySuggestions, [device]: list } });
    },
    applyThresholdEvent(event) {
      set({ latencyStates: { ...get().latencyStates, [event.seriesId]: event.state } });
      if (event.state === 'p95' || event.state === 'loss') get().notify({ tone: 'warning', title: 'Latency limit crossed', message: event.message });
      else if (event.state === 'ok' && (event.previous === 'p95' || event.previous === 'loss')) get().notify({ tone: 'success', title: 'Latency back within limits', message: event.message });
    },
    async loadRecordings() {
      const list = await guard('Could not list recordings', () => api.invoke('latency:recordings', {}));
      if (list) set({ recordings: list });
    },
    async saveRecording(name, seriesIds) {
      const saved = await guard('Could not save the recording', () => api.invoke('latency:recording-save', { name, seriesIds }));
      if (saved) {
        get().notify({ tone: 'success', title: 'Recording saved', message: `${saved.name}: ${saved.series.length} series` });
        await get().loadRecordings();
      }
    },
    async openRecording(id) {
      if (id === null) return set({ openedRecording: null });
      const opened = await guard('Could not open the recording', () => api.invoke('latency:recording-open', { id }));
      if (opened) set({ openedRecording: opened });
    },
    async exportRecording(id) {
      const out = await guard('Could not export the recording', () => api.invoke('latency:recording-export', { id }));
      return out?.csv ?? null;
    },
    async deleteRecording(id) {
      await guard('Could not delete the recording', () => api.invoke('latency:recording-delete', { id }));
      if (get().openedRecording?.info.id === id) set({ openedRecording: null });
      await get().loadRecordings();
    },
    async runAb(args) {
      set({ abRunning: true, abProgress: [] });
      try {
        const report = await guard('The latency lab run failed', () => api.invoke('latency:ab', { ...args, link: link() }));
        if (report) set({ abReports: [report, ...get().abReports.filter((r) => r.id !== report.id)] });
        return report;
      } finally {
        set({ abRunning: false });
      }
    },
    abProgressEvent(event) {
      set({ abProgress: [...get().abProgress, `${event.variant}: ${event.message}`].slice(-20) });
    },
    async loadAbHistory(device) {
      const list = await guard('Could not load the lab history', () => api.invoke('latency:ab-history', { device, limit: 50 }));
      if (list) set({ abReports: list });
    },
  };
};
