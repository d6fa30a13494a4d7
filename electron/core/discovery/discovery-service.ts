import type { JobRegistry } from '../jobs/job-registry';
import type { EventBus, Router } from '../router';
import type { DevicesRepo } from '../store/devices-repo';
import { ContinuousDiscovery } from './continuous';
import { scanOnce } from './scan';
import { listSerialPorts } from './serial-ports';
import { TrustService, type TrustDeps } from './trust';

/** Registers discovery (scan, continuous browse, serial ports) and trust (pin, list, forget, install key). */
export function registerDiscoveryService(router: Router, bus: EventBus, repo: DevicesRepo, trustDeps: TrustDeps, jobs: JobRegistry): { close(): Promise<void> } {
  const continuous = new ContinuousDiscovery(repo, bus);
  const trust = new TrustService(trustDeps);
  // A cancelled scan is not an error: it answers with what it found until then (`cancelled: true`).
  router.handle('discovery:scan', (args) => jobs.run({ kind: 'scan', label: 'discovery scan' }, (job) => scanOnce(args, repo, bus, { signal: job.signal })));
  router.handle('discovery:start', (args) => continuous.start(args));
  router.handle('discovery:stop', () => continuous.stop());
  router.handle('discovery:serial-ports', ({ serialPaths }) => listSerialPorts(serialPaths));
  router.handle('trust:pin', ({ device, fingerprint, yes, port }) => trust.pin(device, { fingerprint, yes, port }));
  router.handle('trust:regenerate', ({ device, ...link }) => trust.regenerate(device, link));
  router.handle('trust:list', () => trust.list());
  router.handle('trust:forget', ({ device, port }) => trust.forget(device, port));
  router.handle('ssh:install-key', (args) => {
    const device = repo.find(args.device);
    return jobs.run({ kind: 'key-install', label: `install the laptop key on ${device?.name ?? args.device}`, deviceIds: device ? [device.id] : [] }, (job) => trust.installKey(args, job.signal));
  });
  return { close: async () => void (await continuous.stop()) };
}
