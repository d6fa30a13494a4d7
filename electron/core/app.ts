import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Api } from '../../shared/contract';
import type { UpstreamReach } from '../../shared/contract/app';
import { unwrap } from '../../shared/errors';
import type { CoreConfig } from './config';
import { EventBus, Router } from './router';
import { registerAppService } from './services/app-service';
import { registerDevicesService } from './services/devices-service';
import { Vault } from './secrets/vault';
import { registerVaultService } from './secrets/vault-service';
import { openDatabase, type Db } from './store/database';
import { DevicesRepo } from './store/devices-repo';
import { DeviceLinks } from './transport/device-links';
import { KnownHosts } from './transport/known-hosts';
import { LaptopKeyStore } from './transport/laptop-key';
import { SshPool } from './transport/ssh-pool';
import { LinkDefaultsRepo } from './settings/link-defaults';
import { EngineRegistry } from './engines/registry';
import type { WorkloadsHandle } from './workloads/workloads-service';
import type { LatencyHandle } from './latency/latency-service';
import type { SerialHandle } from './serial/serial-service';
import { DeviceLocks } from './jobs/device-locks';
import { JobRegistry } from './jobs/job-registry';
import type { PkiHandle } from './pki/pki-service';

export interface Core {
  config: CoreConfig;
  router: Router;
  bus: EventBus;
  // Built on first access (see createCore).
  readonly db: Db;
  readonly devices: DevicesRepo;
  readonly knownHosts: KnownHosts;
  /** The site's link defaults (user, port, key for devices without their own). */
  readonly linkDefaults: LinkDefaultsRepo;
  /** Secrets encrypted at rest (device passwords, the laptop's SSH key, the CA key). */
  readonly vault: Vault;
  readonly laptopKey: LaptopKeyStore;
  readonly ssh: SshPool;
  readonly links: DeviceLinks;
  readonly engines: EngineRegistry;
  /** The workloads service's in-process handle; built on first use (throws before any `workloads:*` call or loadAll()). */
  readonly workloads: WorkloadsHandle;
  /** The latency service's in-process handle; same rule (`latency:*`). */
  readonly latency: LatencyHandle;
  /** Long operations of this process, each cancellable (the CLI aborts them all on Ctrl-C). */
  readonly jobs: JobRegistry;
  /** Per-device locks in the store, shared by every process on $OUTPOST_HOME. */
  readonly locks: DeviceLocks;
  /** The PKI service's in-process handle; same rule (`pki:*`). */
  readonly pki: PkiHandle;
  /** Builds every lazily registered service now (the app and browser mode call it once they serve). */
  loadAll(): Promise<void>;
  /** Services register clean-up here; run in reverse order by close(). */
  onClose(close: () => Promise<void> | void): void;
  /** Releases every resource the services hold (connections, timers, the database). */
  close(): Promise<void>;
}

/** The composition root: every service is built here from one config, and registers its own handlers. */
export function createCore(config: CoreConfig): Core {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const router = new Router();
  const bus = new EventBus();
  const closers: Array<() => Promise<void> | void> = [];
  // Everything is built on first use: `outpost info` opens no database, `outpost devices list` no SSH.
  const db = once(() => openDatabase(join(config.dataDir, 'outpost.db')));
  const devices = once(() => new DevicesRepo(db()));
  const knownHosts = once(() => new KnownHosts(db()));
  const vault = once(() => new Vault(db(), undefined, { protector: config.protector, rememberFile: join(config.dataDir, 'vault.keychain') }));
  const laptopKey = once(() => new LaptopKeyStore(config.dataDir, vault()));
  // Asked at each connection: the key is in the vault, so it is there only while the vault is unlocked.
  const ssh = once(() => new SshPool({ knownHosts: knownHosts(), laptopPrivateKey: () => laptopKey().privateKey() }));
  const linkDefaults = once(() => new LinkDefaultsRepo(db()));
  const links = once(() => new DeviceLinks(ssh(), devices(), knownHosts(), () => linkDefaults().table()));
  const engines = once(() => {
    const registry = new EngineRegistry(links(), devices(), undefined, (id) => bus.emit('devices:changed', { ids: [id] }));
    // A device provisioned with Docker TLS is reached over mTLS with the laptop's client certificate (from the vault).
    registry.useTlsCredentials(async (device) => (await import('./pki/laptop-credentials')).tlsCredentialsFor(db(), vault(), device));
    // A rollout an interruption left half-done is settled when the device's engine is next reached, by whichever
    // service reached it: the Workloads service (owner of the reconciler) is built for it if it was not yet.
    registry.onReached((device, _engine, fresh) => {
      loadWorkloads().then(
        () => workloads?.deployer.reconciler.reached(device, fresh),
        () => undefined,
      );
    });
    return registry;
  });
  const locks = once(() => new DeviceLocks(db(), config.transport === 'in-process' ? 'cli' : config.transport === 'browser' ? 'app (browser mode)' : 'app'));
  const jobs = new JobRegistry(bus, () => locks());

  // Unknown until the buffers service checks the upstream (the app and browser mode build it at start).
  let reach: UpstreamReach = { state: 'unknown', target: null, checkedAt: null, error: null };
  registerAppService(router, config, () => reach);
  // Each service is built on the first request to one of its areas: a CLI command loads only its own.
  router.lazy(['vault'], async () => registerVaultService(router, bus, vault(), laptopKey()));
  router.lazy(['devices'], async () => registerDevicesService(router, bus, devices()));
  router.lazy(['link'], async () => (await import('./settings/link-defaults')).registerLinkService(router, bus, linkDefaults()));
  router.lazy(['jobs'], async () => {
    const { registerJobsService } = await import('./jobs/jobs-service');
    registerJobsService(router, jobs, locks());
  });
  router.lazy(['discovery', 'trust', 'ssh'], async () => {
    const { registerDiscoveryService } = await import('./discovery/discovery-service');
    const discovery = registerDiscoveryService(router, bus, devices(), {
      devices: devices(),
      knownHosts: knownHosts(),
      pool: ssh(),
      links: links(),
      vault: vault(),
      laptopKey: laptopKey(),
    }, jobs);
    closers.push(() => discovery.close());
  });
  router.lazy(['buffers', 'flush', 'store', 'upstream'], async () => {
    const { registerBuffersService } = await import('./buffers/buffers-service');
    const buffers = registerBuffersService({ router, bus, db: db(), devices: devices(), links: links(), pool: ssh(), dataDir: config.dataDir, jobs, watchUpstream: config.transport !== 'in-process', onReach: (r) => (reach = r) });
    closers.push(() => buffers.close());
  });
  let workloads: WorkloadsHandle | undefined;
  const loadWorkloads = router.lazy(['workloads'], async () => {
    const [{ registerWorkloadsService }, { ImageCache }] = await Promise.all([import('./workloads/workloads-service'), import('./workloads/image-cache')]);
    workloads = registerWorkloadsService({ router, bus, db: db(), engines: engines(), cache: new ImageCache(config.dataDir), dataDir: config.dataDir, onClose: (c) => closers.push(c), jobs, locks: () => locks() });
  });
  let serial: SerialHandle | undefined;
  const loadSerial = router.lazy(['serial'], async () => {
    const { registerSerialService } = await import('./serial/serial-service');
    const handle = registerSerialService({
      router,
      bus,
      devices: devices(),
      knownHosts: knownHosts(),
      laptopPublicKey: async () => laptopKey().publicKey() ?? (await laptopKey().ensure()).publicKey,
      dataDir: config.dataDir,
      sshPortOf: (device) => links().effective(device).port,
    });
    serial = handle;
    closers.push(() => handle.close());
  });
  router.lazy(['sessions'], async () => {
    // Serial terminals are sessions too: the serial service owns their ports.
    const [{ registerSessionsService }] = await Promise.all([import('./sessions/sessions-service'), loadSerial()]);
    closers.push(registerSessionsService({ router, bus, engines: engines(), links: links(), serial }).close);
  });
  let latency: LatencyHandle | undefined;
  router.lazy(['latency'], async () => {
    const [{ registerLatencyService }] = await Promise.all([import('./latency/latency-service'), loadWorkloads()]);
    const w = workloads as WorkloadsHandle;
    const handle = registerLatencyService({ router, bus, db: db(), links: links(), engines: engines(), deployer: w.deployer, history: w.history, locks: () => locks() });
    latency = handle;
    closers.push(() => handle.close());
  });
  let pki: PkiHandle | undefined;
  router.lazy(['pki'], async () => {
    const { registerPkiService } = await import('./pki/pki-service');
    pki = registerPkiService({ router, bus, db: db(), devices: devices(), links: links(), vault: vault(), jobs, onEngineLinkChanged: (d) => engines().relink(d) });
  });

  const built = <T>(name: string, handle: T | undefined, areas: string): T => {
    if (!handle) throw new Error(`the ${name} service is not built yet: call a ${areas} channel or await core.loadAll() first`);
    return handle;
  };
  return {
    config,
    router,
    bus,
    get db() {
      return db();
    },
    get devices() {
      return devices();
    },
    get knownHosts() {
      return knownHosts();
    },
    get linkDefaults() {
      return linkDefaults();
    },
    get vault() {
      return vault();
    },
    get laptopKey() {
      return laptopKey();
    },
    get ssh() {
      return ssh();
    },
    get links() {
      return links();
    },
    get engines() {
      return engines();
    },
    get workloads() {
      return built('workloads', workloads, 'workloads:*');
    },
    get latency() {
      return built('latency', latency, 'latency:*');
    },
    jobs,
    get locks() {
      return locks();
    },
    get pki() {
      return built('pki', pki, 'pki:*');
    },
    loadAll: () => router.loadAll(),
    onClose(close) {
      closers.push(close);
    },
    async close() {
      // Running jobs stop at their next safe point before their connections go.
      jobs.close();
      for (const close of closers.reverse()) await close();
      if (locks.built) locks().releaseAll();
      if (ssh.built) await ssh().closeAll();
      if (db.built) db().close();
    },
  };
}

/** A value built on first call and kept; `built` tells whether it was ever asked for. */
function once<T>(make: () => T): (() => T) & { built: boolean } {
  let value: T | undefined;
  const get = Object.assign(
    (): T => {
      if (!get.built) {
        value = make();
        get.built = true;
      }
      return value as T;
    },
    { built: false },
  );
  return get;
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
