import type Docker from 'dockerode';
import type { Device, EngineFound, EngineNotFound, LinkOptions } from '../../../shared/contract';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { DevicesRepo } from '../store/devices-repo';
import type { DeviceLinks } from '../transport/device-links';
import type { SshConnection } from '../transport/ssh-connection';
import { engineError, withTimeout } from './engine-errors';
import { locateEngine, locateKnownEngine } from './locate';
import { dockerodeModule } from '../lazy-require';

// Loaded when an engine is first reached over mTLS: `outpost info` and a flush never pay for dockerode (~20 MiB).
const dockerode = () => dockerodeModule<typeof Docker>();

/**
 * How a device's engine is reached: its unix socket on the device, through the device's SSH connection (where it
 * lives is found by locateEngine), or Docker over mTLS on the network (the PKI's client certificates).
 */
export type EngineEndpoint = { kind: 'ssh'; socket: string } | { kind: 'tls'; host: string; port: number };

export interface Engine {
  deviceId: string;
  deviceName: string;
  endpoint: EngineEndpoint;
  docker: Docker;
  /** The SSH connection under the engine, for execs and file staging on the same link. */
  ssh: SshConnection;
  /** What answered and where (Docker, Podman, balena-engine), as recorded in the device's details. */
  found: EngineFound;
  /** The device's socket setting when it was looked for (a new setting means looking again). */
  setting?: string;
}

export interface DeviceResult<T> {
  deviceId: string;
  deviceName: string;
  ok: boolean;
  value?: T;
  error?: { kind: string; message: string };
  engine?: { socket: string; source: string; product: string; version?: string };
}

/** The laptop's client certificate and the site CA it is pinned to, for a device whose engine speaks mTLS. */
export type TlsCredentialsProvider = (device: Device) => Promise<{ ca: string; cert: string; key: string }>;

/** Devices dialled and asked at once by a fleet call (ps, the Workloads view's refresh). */
export const FLEET_PARALLEL = 16;

/**
 * One engine client per device, results tagged with the device, a deadline on every call, and a fresh client
 * after the link under it drops. One dead engine is reported as such and never blanks the fleet view.
 */
export class EngineRegistry {
  private readonly engines = new Map<string, Engine>();
  private readonly reachedListeners = new Set<(device: Device, engine: Engine, fresh: boolean) => void>();
  private tlsCredentials: TlsCredentialsProvider | null = null;
  /** Devices whose next connection searches every place again rather than trying the recorded engine first. */
  private readonly fullSearch = new Set<string>();

  constructor(
    private readonly links: DeviceLinks,
    private readonly devices: DevicesRepo,
    readonly defaultTimeoutMs = 15_000,
    /** Told when a device's record changed (its engine was found somewhere new), so views refresh. */
    private readonly onDeviceChanged: (id: string) => void = () => undefined,
  ) {}

  device(ref: string): Device {
    const device = this.devices.find(ref);
    if (!device) throw new OutpostError('not-found', `no device matches ${JSON.stringify(ref)}`);
    return device;
  }

  /** The PKI hands the registry the laptop's docker-client credentials. */
  useTlsCredentials(provider: TlsCredentialsProvider): void {
    this.tlsCredentials = provider;
  }

  /** TLS where Outpost installed it (a site CA is recorded); an engine merely seen demanding TLS is still reached over SSH. */
  endpointKind(device: Device): EngineEndpoint['kind'] {
    return device.docker?.tls && device.docker.caId ? 'tls' : 'ssh';
  }

  async engine(device: Device, link?: LinkOptions): Promise<Engine> {
    const cached = this.engines.get(device.id);
    // A changed socket setting is looked for at once, not after the link next drops. Read from the inventory: a
    // caller may hold a device record older than the technician's last edit.
    const current = this.devices.find(device.id) ?? device;
    const setting = current.docker?.socket;
    if (cached?.ssh.isOpen && cached.setting === setting) return cached;
    if (cached) this.engines.delete(device.id);
    const ssh = await this.links.ssh(device, link);
    let located: Awaited<ReturnType<typeof locateEngine>>;
    try {
      // What was recorded is tried first (one /version); "Look for the engine" asks for the full search.
      const full = this.fullSearch.delete(device.id);
      located = full ? await locateEngine(ssh, device.name, setting) : await locateKnownEngine(ssh, device.name, setting, current.docker?.engine);
    } catch (err) {
      if (err instanceof OutpostError && err.kind === 'engine-not-found') this.recordNotFound(device.id, (err.details as { tried?: EngineNotFound['tried'] } | undefined)?.tried ?? []);
      throw err;
    }
    const { found, docker: local } = located;
    this.record(device.id, found);
    // Over mTLS only the Docker API leaves the SSH link; files (image staging, deploy state) still travel over SSH.
    const tls = this.endpointKind(device) === 'tls' ? { kind: 'tls' as const, host: device.addresses[0] ?? device.hostnames[0] ?? '', port: device.docker?.port ?? 2376 } : null;
    const docker = tls ? await this.tlsDocker(device, tls) : local;
    const engine: Engine = { deviceId: device.id, deviceName: device.name, endpoint: tls ?? { kind: 'ssh', socket: found.socket }, docker, ssh, found, setting };
    this.engines.set(device.id, engine);
    ssh.onClose(() => {
      if (this.engines.get(device.id) === engine) this.engines.delete(device.id);
    });
    this.reached(device, engine, true);
    return engine;
  }

  /**
   * Tells `listener` each time a device's engine is reached: `fresh` when its link was (re)established, otherwise
   * after a call on it succeeded. Listeners must not throw or block (reconcile after an interruption hooks in here).
   */
  onReached(listener: (device: Device, engine: Engine, fresh: boolean) => void): () => void {
    this.reachedListeners.add(listener);
    return () => this.reachedListeners.delete(listener);
  }

  private reached(device: Device, engine: Engine, fresh: boolean): void {
    for (const listener of this.reachedListeners) listener(device, engine, fresh);
  }

  private async tlsDocker(device: Device, endpoint: Extract<EngineEndpoint, { kind: 'tls' }>): Promise<Docker> {
    if (!this.tlsCredentials) throw new OutpostError('unsupported', `${device.name}: Docker over mTLS needs the site PKI, which is not loaded`);
    const creds = await this.tlsCredentials(device);
    return new (dockerode())({ protocol: 'https', host: endpoint.host, port: endpoint.port, ca: creds.ca, cert: creds.cert, key: creds.key, timeout: this.defaultTimeoutMs });
  }

  /** Runs `fn` against one device's engine within a deadline (connecting included); errors carry a kind and the device's name. */
  async call<T>(device: Device, fn: (engine: Engine) => Promise<T>, opts: { link?: LinkOptions; timeoutMs?: number; what?: string } = {}): Promise<T> {
    const ms = opts.timeoutMs ?? this.defaultTimeoutMs;
    const what = opts.what ?? 'engine call';
    try {
      return await withTimeout(
        this.engine(device, opts.link).then(async (e) => {
          const value = await fn(e);
          this.reached(device, e, false);
          return value;
        }),
        ms,
        `${device.name}: ${what} got no answer within ${ms} ms (link down or engine hung)`,
      );
    } catch (err) {
      throw engineError(device.name, err, what);
    }
  }

  /** The same call on many devices at once; each answers for itself. */
  async fleet<T>(devices: Device[], fn: (engine: Engine) => Promise<T>, opts: { link?: LinkOptions; timeoutMs?: number; what?: string; parallel?: number } = {}): Promise<Array<DeviceResult<T>>> {
    // Bounded: a site of 200 devices must not open 200 SSH handshakes at once (the laptop's CPU and the site's
    // switch both choke); links already open answer at once and free their slot quickly.
    const settled = new Array<PromiseSettledResult<T>>(devices.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < devices.length; i = next++) {
        settled[i] = await this.call(devices[i] as Device, fn, opts).then(
          (value): PromiseFulfilledResult<T> => ({ status: 'fulfilled', value }),
          (reason: unknown): PromiseRejectedResult => ({ status: 'rejected', reason }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.parallel ?? FLEET_PARALLEL, devices.length) }, worker));
    return settled.map((s, i) => {
      const d = devices[i] as Device;
      const found = this.engines.get(d.id)?.found;
      const engine = found ? { socket: found.socket, source: found.source, product: found.product, version: found.version } : undefined;
      if (s.status === 'fulfilled') return { deviceId: d.id, deviceName: d.name, ok: true, value: s.value, engine };
      const body = toErrorBody(s.reason);
      return { deviceId: d.id, deviceName: d.name, ok: false, error: { kind: body.kind, message: body.message } };
    });
  }

  /** Looks for the device's engine again now, dropping the client it had (its link stays). */
  async locate(device: Device, link?: LinkOptions): Promise<EngineFound> {
    this.engines.delete(device.id);
    this.fullSearch.add(device.id);
    return this.call(device, async (e) => e.found, { link, what: 'looking for the engine' });
  }

  /** Keeps what was found in the device's details; a change (another place, another engine) is announced. */
  private record(deviceId: string, found: EngineFound): void {
    const current = this.devices.find(deviceId);
    if (!current) return;
    const before = current.docker?.engine;
    const same = before && before.socket === found.socket && before.product === found.product && before.version === found.version && before.systemd === found.systemd && !current.docker?.engineNotFound;
    const apiVersion = found.apiVersion ?? current.docker?.apiVersion;
    // Reached where it was, as it was (every new link of every CLI command): nothing to write.
    if (same && before.foundAt === found.foundAt && current.docker?.apiVersion === apiVersion) return;
    const { engineNotFound: _gone, ...docker } = current.docker ?? {};
    this.devices.save({ ...current, docker: { ...docker, engine: found, apiVersion } });
    if (!same) this.onDeviceChanged(deviceId);
  }

  /** No engine answered: the device's details say where Outpost looked (what it found before stays, marked stale by this). */
  private recordNotFound(deviceId: string, tried: EngineNotFound['tried']): void {
    const current = this.devices.find(deviceId);
    if (!current) return;
    this.devices.save({ ...current, docker: { ...(current.docker ?? {}), engineNotFound: { at: new Date().toISOString(), tried } } });
    this.onDeviceChanged(deviceId);
  }

  /** Forgets a device's client, e.g. after a transfer stalled on a dead link, so the next call reconnects. */
  forget(device: Device): void {
    const engine = this.engines.get(device.id);
    this.engines.delete(device.id);
    // The link is presumed dead: a polite close would leave every call in flight on it waiting for ever.
    engine?.ssh.destroy();
  }

  /** The device's engine link changed (e.g. it now speaks mTLS): the next call builds a new client, on the same SSH link. */
  relink(device: Device): void {
    this.engines.delete(device.id);
  }
}
