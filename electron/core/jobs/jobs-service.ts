import type { Router } from '../router';
import type { DeviceLocks } from './device-locks';
import type { JobRegistry } from './job-registry';

/** jobs:list (this process's jobs, and every live device lock in the store) and jobs:cancel. */
export function registerJobsService(router: Router, jobs: JobRegistry, locks: DeviceLocks): void {
  router.handle('jobs:list', () => ({ jobs: jobs.list(), locks: locks.list() }));
  router.handle('jobs:cancel', (match) => ({ cancelled: jobs.cancel(match) }));
}
