import type { Api, ArgsOf, CachedImage, ContainerSummary, DeployPlan, DeployRecord, PayloadOf, PendingRollout, ResultOf } from '../../../shared/contract';
import type { SliceCreator } from './types';

export type DeviceContainers = ResultOf<'workloads:ps'>[number];
export type TransferProgress = PayloadOf<'workloads:progress'>;

export interface SelectedContainer {
  deviceId: string;
  deviceName: string;
  container: ContainerSummary;
}

export interface DeployDraft {
  devices: string[];
  composeText: string;
  composePath: string;
}

export interface WorkloadsSlice {
  containers: DeviceContainers[];
  containersLoading: boolean;
  selectedContainer: SelectedContainer | null;
  images: CachedImage[];
  imagesBusy: boolean;
  imageProblems: Record<string, string[]>;
  history: DeployRecord[];
  plan: DeployPlan | null;
  planning: boolean;
  deploying: boolean;
  /** Latest transfer progress per device, from `workloads:progress`. */
  transfers: Record<string, TransferProgress>;
  /** Rollout steps of the deploy in flight, in arrival order, from `workloads:rollout`. */
  rolloutSteps: DeployRecord[];
  /** Services left mid-rollout (an interruption), refreshed whenever a rollout step is announced. */
  pendingRollouts: PendingRollout[];
  /** Devices being reconciled right now. */
  reconciling: string[];
  loadContainers(deviceIds: string[]): Promise<void>;
  selectContainer(selected: SelectedContainer | null): void;
  loadImages(): Promise<void>;
  importImage(path: string): Promise<boolean>;
  verifyImages(ref?: string): Promise<void>;
  removeImage(ref: string): Promise<void>;
  loadHistory(): Promise<void>;
  planDeploy(draft: DeployDraft): Promise<DeployPlan | null>;
  deploy(draft: DeployDraft): Promise<ResultOf<'workloads:deploy'> | null>;
  rollback(deviceId: string, service: string): Promise<DeployRecord | null>;
  loadPendingRollouts(): Promise<void>;
  /** Finishes or undoes whatever an interruption left mid-rollout on one device. */
  reconcile(deviceId: string, deviceName?: string): Promise<DeployRecord[] | null>;
  /** Collects the device's support bundle: written at `out` (the desktop's save dialog), else returned for a download. */
  saveSupportBundle(deviceId: string, deviceName: string, out?: string): Promise<ResultOf<'workloads:bundle'> | null>;
  /** Follows deploy progress and rollout steps; returns the unsubscriber. */
  followWorkloads(): () => void;
  /** Follows a container's logs / stats / the engine's events; resolves with the stopper. */
  followStream(args: Omit<ArgsOf<'workloads:follow'>, 'link'>, onData: (text: string) => void, onEnd?: () => void): Promise<() => void>;
  /** The Api for components that hold their own byte stream (terminals). */
  workloadsApi: Api;
}

function composeSource(draft: DeployDraft): ArgsOf<'workloads:deploy'>['compose'] {
  return draft.composeText.trim() ? { text: draft.composeText } : { path: draft.composePath.trim() };
}

/** Replaces a rollout step with a newer state of the same record, else appends it. */
export function mergeRolloutStep(steps: DeployRecord[], record: DeployRecord): DeployRecord[] {
  const i = steps.findIndex((s) => s.id === record.id && s.phase === record.phase);
  if (i === -1) return [...steps, record];
  const next = steps.slice();
  next[i] = record;
  return next;
}

export const createWorkloadsSlice: SliceCreator<WorkloadsSlice> = (set, get, { api }) => {
  // Answers can overtake each other (a slow device); only the newest listing may write.
  let latestPs = 0;
  // The technician's link override (Buffers and Workloads share it); empty: each device's own settings.
  const link = () => get().linkOverride;

  return {
    containers: [],
    containersLoading: false,
    selectedContainer: null,
    images: [],
    imagesBusy: false,
    imageProblems: {},
    history: [],
    plan: null,
    planning: false,
    deploying: false,
    transfers: {},
    rolloutSteps: [],
    pendingRollouts: [],
    reconciling: [],

    async loadContainers(deviceIds) {
      const request = ++latestPs;
      if (deviceIds.length === 0) {
        set({ containers: [], containersLoading: false });
        return;
      }
      set({ containersLoading: true });
      try {
        const containers = await api.invoke('workloads:ps', { devices: deviceIds, link: link() });
        if (request !== latestPs) return;
        const selected = get().selectedContainer;
        // Keep the open detail pointing at the fresh summary (state, restarts) of the same container.
        const fresh = selected && containers.find((d) => d.deviceId === selected.deviceId)?.value?.find((c) => c.id === selected.container.id);
        set({ containers, containersLoading: false, ...(selected && fresh ? { selectedContainer: { ...selected, container: fresh } } : {}) });
      } catch (err) {
        if (request === latestPs) set({ containersLoading: false });
        get().reportError(err, 'Could not list containers');
      }
    },

    selectContainer(selectedContainer) {
      set({ selectedContainer });
    },

    async loadImages() {
      try {
        set({ images: await api.invoke('workloads:images-list', {}) });
      } catch (err) {
        get().reportError(err, 'Could not read the image cache');
      }
    },

    async importImage(path) {
      set({ imagesBusy: true });
      try {
        const imported = await api.invoke('workloads:images-import', { path });
        get().notify({ tone: 'success', title: 'Image imported', message: imported.flatMap((i) => i.repoTags).join(', ') || path });
        await get().loadImages();
        return true;
      } catch (err) {
        get().reportError(err, 'Could not import the image');
        return false;
      } finally {
        set({ imagesBusy: false });
      }
    },

    async verifyImages(ref) {
      set({ imagesBusy: true });
      try {
        const results = await api.invoke('workloads:images-verify', ref ? { ref } : {});
        const imageProblems = { ...get().imageProblems };
        for (const r of results) imageProblems[r.id] = r.problems;
        set({ imageProblems });
        const bad = results.filter((r) => !r.ok).length;
        if (bad === 0) get().notify({ tone: 'success', title: 'Image cache verified', message: `${results.length} image(s) intact` });
        else get().notify({ tone: 'error', title: 'Image cache damaged', message: `${bad} of ${results.length} image(s) failed verification`, kind: 'integrity' });
      } catch (err) {
        get().reportError(err, 'Could not verify the image cache');
      } finally {
        set({ imagesBusy: false });
      }
    },

    async removeImage(ref) {
      try {
        const { blobsFreed } = await api.invoke('workloads:images-remove', { ref });
        get().notify({ tone: 'success', title: 'Image removed', message: `${ref} (${blobsFreed} blob(s) freed)` });
        await get().loadImages();
      } catch (err) {
        get().reportError(err, 'Could not remove the image');
      }
    },

    async loadHistory() {
      try {
        set({ history: await api.invoke('workloads:history', { limit: 200 }) });
      } catch (err) {
        get().reportError(err, 'Could not read the deploy history');
      }
    },

    async planDeploy(draft) {
      set({ planning: true, plan: null });
      try {
        const plan = await api.invoke('workloads:plan', { devices: draft.devices, compose: composeSource(draft), link: link() });
        set({ plan });
        return plan;
      } catch (err) {
        get().reportError(err, 'Could not plan the deploy');
        return null;
      } finally {
        set({ planning: false });
      }
    },

    async deploy(draft) {
      set({ deploying: true, transfers: {}, rolloutSteps: [] });
      try {
        const result = await api.invoke('workloads:deploy', { devices: draft.devices, compose: composeSource(draft), link: link() });
        const failed = result.results.filter((r) => !r.ok);
        if (failed.length === 0) get().notify({ tone: 'success', title: 'Deploy finished', message: `${result.results.length} device(s) updated` });
        else for (const f of failed) get().reportError(f.error ?? { message: 'failed' }, `Deploy failed on ${f.deviceName}`);
        await get().loadHistory();
        return result;
      } catch (err) {
        get().reportError(err, 'Deploy failed');
        return null;
      } finally {
        set({ deploying: false });
      }
    },

    async rollback(deviceId, service) {
      try {
        const record = await api.invoke('workloads:rollback', { device: deviceId, service, link: link() });
        get().notify({ tone: 'success', title: 'Rolled back', message: `${service}: ${record.message || record.phase}` });
        await get().loadHistory();
        return record;
      } catch (err) {
        get().reportError(err, `Could not roll back ${service}`);
        return null;
      }
    },

    async loadPendingRollouts() {
      try {
        set({ pendingRollouts: await api.invoke('workloads:pending', {}) });
      } catch (err) {
        get().reportError(err, 'Could not read the services left mid-rollout');
      }
    },

    async reconcile(deviceId, deviceName) {
      set({ reconciling: [...get().reconciling, deviceId] });
      const name = deviceName ?? deviceId;
      try {
        const records = await api.invoke('workloads:reconcile', { device: deviceId, link: link() });
        const summary = records.map((r) => `${r.service}: ${r.phase === 'done' ? 'finished' : r.phase === 'rolled-back' ? 'undone' : r.phase}`).join(', ');
        get().notify({ tone: 'success', title: `Reconciled ${name}`, message: summary || 'Nothing was left mid-rollout.' });
        await Promise.all([get().loadHistory(), get().loadPendingRollouts()]);
        return records;
      } catch (err) {
        get().reportError(err, `Could not reconcile ${name}`);
        return null;
      } finally {
        set({ reconciling: get().reconciling.filter((id) => id !== deviceId) });
      }
    },

    async saveSupportBundle(deviceId, deviceName, out) {
      try {
        const r = await api.invoke('workloads:bundle', { device: deviceId, link: link(), ...(out ? { out } : {}) });
        const where = r.path ? `saved to ${r.path}` : 'downloaded';
        get().notify({ tone: 'success', title: `Support bundle of ${deviceName}`, message: `${r.entries.length} files, ${Math.ceil(r.bytes / 1024)} KiB, secrets redacted — ${where}` });
        return r;
      } catch (err) {
        get().reportError(err, `Could not collect ${deviceName}'s support bundle`);
        return null;
      }
    },

    workloadsApi: api,

    async followStream(args, onData, onEnd) {
      // The core may emit the first lines before `workloads:follow` has answered: hold them until the id is known.
      let streamId: string | null = null;
      const early: Array<PayloadOf<'workloads:stream'>> = [];
      const deliver = (e: PayloadOf<'workloads:stream'>) => {
        if (e.data) onData(e.data);
        if (e.end) onEnd?.();
      };
      const off = api.on('workloads:stream', (e) => {
        if (streamId === null) early.push(e);
        else if (e.streamId === streamId) deliver(e);
      });
      try {
        ({ streamId } = await api.invoke('workloads:follow', { ...args, link: link() }));
      } catch (err) {
        off();
        throw err;
      }
      for (const e of early.splice(0)) if (e.streamId === streamId) deliver(e);
      const id = streamId;
      return () => {
        off();
        api.invoke('workloads:unfollow', { streamId: id }).catch(() => undefined);
      };
    },

    followWorkloads() {
      const offProgress = api.on('workloads:progress', (p) => set({ transfers: { ...get().transfers, [p.deviceId]: p } }));
      // A step may settle (or leave) a service mid-rollout, also when reconcile ran by itself: refresh the banner.
      let refresh: ReturnType<typeof setTimeout> | undefined;
      const offRollout = api.on('workloads:rollout', (r) => {
        set({ rolloutSteps: mergeRolloutStep(get().rolloutSteps, r) });
        clearTimeout(refresh);
        refresh = setTimeout(() => void get().loadPendingRollouts(), 200);
      });
      void get().loadPendingRollouts();
      return () => {
        clearTimeout(refresh);
        offProgress();
        offRollout();
      };
    },
  };
};
