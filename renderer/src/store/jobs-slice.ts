import type { JobInfo, JobKind } from '../../../shared/contract';
import type { SliceCreator } from './types';

export interface JobsSlice {
  /** Long operations running in the core (flush, scan, image import, deploy, key install…), from `jobs:changed`. */
  jobs: JobInfo[];
  setJobs(jobs: JobInfo[]): void;
  loadJobs(): Promise<void>;
  /** Cancels one job, or every running job of a kind (optionally only on one device). */
  cancelJobs(match: { id?: string; kind?: JobKind; deviceId?: string }): Promise<void>;
}

export const createJobsSlice: SliceCreator<JobsSlice> = (set, get, { api }) => ({
  jobs: [],
  setJobs(jobs) {
    set({ jobs });
  },
  async loadJobs() {
    try {
      set({ jobs: (await api.invoke('jobs:list', {})).jobs });
    } catch {
      // An older core without jobs: nothing to cancel, and jobs:changed keeps the list current where there is one.
    }
  },
  async cancelJobs(match) {
    try {
      await api.invoke('jobs:cancel', match);
    } catch (err) {
      get().reportError(err, 'Could not cancel');
    }
  },
});
