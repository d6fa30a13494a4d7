import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Api } from '../../shared/contract';
import { unwrap } from '../../shared/errors';
import type { CoreConfig } from './config';
import { EventBus, Router } from './router';
import { registerAppService } from './services/app-service';
import { registerBuffersService } from './buffers/buffers-service';
import { registerDevicesService } from './services/devices-service';
import { registerDiscoveryService } from './discovery/discovery-service';
import { Vault } from './secrets/vault';
import { registerVaultService } from './secrets/vault-service';
import { openDatabase, type Db } from './store/database';
import { DevicesRepo } from './store/devices-repo';
import { DeviceLinks } from './transport/device-links';
import { KnownHosts } from './transport/known-hosts';
import { LaptopKeyStore } from './transport/laptop-key';
import { SshPool } from './transport/ssh-pool';
import { EngineRegistry } from './engines/registry';
import { ImageCache } from './workloads/image-cache';
import { registerWorkloadsService, type WorkloadsHandle } from './workloads/workloads-service';
import { registerSessionsService } from './sessions/sessions-service';
import { registerLatencyService, type LatencyHandle } from './latency/latency-service';

export interface Core {
  config: CoreConfig;
  router: Router;
  bus: EventBus;
  db: Db;
  devices: DevicesRepo;
  knownHosts: KnownHosts;
  /** Secrets encrypted at rest (device passwords, the laptop's SSH key, the CA key). */
  vault: Vault;
  laptopKey: LaptopKeyStore;
  ssh: SshPool;
  links: DeviceLinks;
  engines: EngineRegistry;
  workloads: WorkloadsHandle;
  latency: LatencyHandle;
  /** Services register clean-up here; run in reverse order by close(). */
  onClose(close: () => Promise<void> | void): void;
  /** Releases every resource the services hold (connections, timers, the database). */
  close(): Promise<void>;
}

/** The composition root: every service is built here from one config, and registers its own handlers. */
export function createCore(config: CoreConfig): Core {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const db = openDatabase(join(config.dataDir, 'outpost.db'));
  const router = new Router();
  const bus = new EventBus();
  const devices = new DevicesRepo(db);
  const closers: Array<() => Promise<void> | void> = [];
  const knownHosts = new KnownHosts(db);
  const vault = new Vault(db, undefined, { protector: config.protector, rememberFile: join(config.dataDir, 'vault.keychain') });
  const laptopKey = new LaptopKeyStore(config.dataDir, vault);
  // Asked at each connection: the key is in the vault, so it is there only while the vault is unlocked.
  const ssh = new SshPool({ knownHosts, laptopPrivateKey: () => laptopKey.privateKey() });
  closers.push(() => ssh.closeAll());
  const links = new DeviceLinks(ssh, devices);

  registerAppService(router, config);
  registerVaultService(router, bus, vault, laptopKey);
  registerDevicesService(router, bus, devices);
  const discovery = registerDiscoveryService(router, bus, devices, {
    devices,
    knownHosts,
    pool: ssh,
    links,
    vault,
    laptopKey,
  });
  closers.push(() => discovery.close());
  const buffers = registerBuffersService({ router, bus, db, devices, links, pool: ssh, dataDir: config.dataDir });
  closers.push(() => buffers.close());
  const engines = new EngineRegistry(links, devices);
  const workloads = registerWorkloadsService({ router, bus, db, engines, cache: new ImageCache(config.dataDir), dataDir: config.dataDir, onClose: (c) => closers.push(c) });
  closers.push(registerSessionsService({ router, bus, engines, links }).close);
  const latency = registerLatencyService({ router, bus, db, links, engines, deployer: workloads.deployer, history: workloads.history });
  closers.push(() => latency.close());

  return {
    config,
    router,
    bus,
    db,
    devices,
    knownHosts,
    vault,
    laptopKey,
    ssh,
    links,
    engines,
    workloads,
    latency,
    onClose(close) {
      closers.push(close);
    },
    async close() {
      for (const close of closers.reverse()) await close();
      db.close();
    },
  };
}

/** The in-process transport: the CLI and integration tests call the core through the same Api shape. */
export function inProcessApi(core: Core): Api {
  return {
    async invoke(channel, args) {
      // A JSON round trip keeps the in-process transport honest: nothing non-serialisable crosses it.
      const wireArgs = args === undefined ? undefined : JSON.parse(JSON.stringify(args));
      const envelope = await core.router.dispatch(channel, wireArgs);
      return unwrap(JSON.parse(JSON.stringify(envelope)));
    },
    on(event, listener) {
      return core.bus.subscribe((name, payload) => {
        if (name === event) listener(payload as never);
      });
    },
  };
}
