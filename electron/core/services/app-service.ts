import type { Router } from '../router';
import type { CoreConfig } from '../config';
import { detectOnline } from '../online';
import { APP_VERSION } from '../version';

export function registerAppService(router: Router, config: CoreConfig): void {
  router.handle('app:info', () => ({
    name: 'Outpost' as const,
    version: APP_VERSION,
    dataDir: config.dataDir,
    online: detectOnline(),
    platform: `${process.platform}-${process.arch}`,
    transport: config.transport,
  }));
}
