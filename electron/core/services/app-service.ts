import type { UpstreamReach } from '../../../shared/contract/app';
import type { Router } from '../router';
import type { CoreConfig } from '../config';
import { APP_VERSION } from '../version';

/** `reach` is the latest upstream check (see online.ts): "online" means the configured upstream answers. */
export function registerAppService(router: Router, config: CoreConfig, reach: () => UpstreamReach): void {
  router.handle('app:info', () => {
    const upstream = reach();
    return {
      name: 'Outpost' as const,
      version: APP_VERSION,
      dataDir: config.dataDir,
      online: upstream.state === 'upstream-reachable',
      upstream,
      platform: `${process.platform}-${process.arch}`,
      transport: config.transport,
    };
  });
}
