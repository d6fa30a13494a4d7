import { createHash } from 'node:crypto';
import type { Device } from '../../../shared/contract';
import type { ClockStatus, FilesTarget, InstallPlan, InstallTarget, IssueResult, MqttTargetOptions, ProfileName, ProvisionStage, SubjectAltName } from '../../../shared/contract/pki';
import type { LinkOptions } from '../../../shared/contract/link';
import { OutpostError } from '../../../shared/errors';
import { throwIfCancelled } from '../jobs/job-registry';
import type { EventBus } from '../router';
import type { Vault } from '../secrets/vault';
import type { DevicesRepo } from '../store/devices-repo';
import type { DeviceLinks } from '../transport/device-links';
import type { SshConnection } from '../transport/ssh-connection';
import { ALGORITHMS, generateKeyPair, privateKeyPem, x509 } from './crypto';
import { devicePkiDir, discardPendingKey, generateKeyOnDevice, hasOpenssl, readDeviceClock, readRemote, sendKeyToDevice, setDeviceClock, storeOnDevice, verifyOnDevice } from './device-ops';
import { applyDockerPlan, dockerHashes, DOCKER_TLS_PORT, planDockerTls, readDockerFacts, type DockerPlan } from './docker-target';
import { ensureLaptopClient, tlsPing } from './laptop-client';
import type { PkiRepo, StoredCa } from './pki-repo';
import { profile as profileOf, type Profile } from './profiles';
import { certificateRecord } from './record';
import { parseSan, signRequest } from './signer';
import type { SiteCas } from './site-ca';
import { UnlockCache } from './unlock-cache';
import { installFiles, installMqtt, mqttOptions, planFilesTarget, planMqtt, type TargetContext } from './targets';

export const DEFAULT_MAX_SKEW_SECONDS = 300;

export interface IssueOptions {
  device: string;
  profile: ProfileName;
  caId?: string;
  extraSans?: string[];
  install?: InstallTarget;
  planOnly?: boolean;
  setClock?: boolean;
  allowLaptopKey?: boolean;
  lifetimeDays?: number;
  lifetimeMinutes?: number;
  files?: FilesTarget;
  mqtt?: Partial<MqttTargetOptions>;
  link?: LinkOptions;
  passphrase?: string;
  replaces?: string;
  /** Cancels at the next step boundary (kind `cancelled`); the device keeps its current key until the new one is stored. */
  signal?: AbortSignal;
  /** The bulk run this issue belongs to: carried on every `pki:progress` event. */
  runId?: string;
  /** Called as each stage starts (the bulk runner records where a device failed). */
  onStage?(stage: ProvisionStage): void;
}

export interface IssuerDeps {
  repo: PkiRepo;
  cas: SiteCas;
  vault: (passphrase?: string) => Vault;
  devices: DevicesRepo;
  links: DeviceLinks;
  bus: EventBus;
  /** Called when a device's engine link changed (the registry drops its cached client). */
  onEngineLinkChanged?(device: Device): void;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The names a certificate for this device may carry: its addresses, hostnames and mDNS name, plus what the technician approved. */
export function approvedSans(device: Device, profileName: ProfileName, extra: string[] = []): SubjectAltName[] {
  const prof = profileOf(profileName);
  if (prof.sans === 'none') {
    if (extra.length) throw new OutpostError('policy', `profile ${profileName} carries no names; drop ${extra.join(', ')}`);
    return [];
  }
  const out = new Map<string, SubjectAltName>();
  const add = (value: string, strict: boolean) => {
    const san = parseSan(value);
    if (!san) {
      if (strict) throw new OutpostError('invalid-input', `${JSON.stringify(value)} is neither a hostname nor an IP address`);
      return;
    }
    out.set(`${san.type}:${san.value}`, san);
  };
  for (const a of device.addresses) if (!a.includes('%')) add(a, false);
  for (const h of device.hostnames) add(h, false);
  if (/^[A-Za-z0-9][A-Za-z0-9-]{0,62}$/.test(device.name)) add(`${device.name}.local`, false);
  for (const e of extra) add(e, true);
  return [...out.values()];
}

/** The subject's common name: the device's name, or name-profile for the client profiles that carry no names. */
export function commonNameFor(device: Device, prof: Pick<Profile, 'name' | 'sans'>): string {
  return prof.sans === 'none' ? `${device.name}-${prof.name}`.slice(0, 64) : device.name.slice(0, 64);
}

/**
 * Issuing to a device, end to end: clock first, the key made on the device, the CSR checked and signed by the
 * profile, the certificate stored next to its key, then (optionally) an install target, planned before it runs.
 */
export class Issuer {
  constructor(readonly deps: IssuerDeps) {}

  private device(ref: string): Device {
    const device = this.deps.devices.find(ref);
    if (!device) throw new OutpostError('not-found', `no device matches ${JSON.stringify(ref)}`);
    return device;
  }

  /** Announces a step of one device's provisioning; a cancelled run stops here, between steps. */
  private progress(device: Device, opts: Pick<IssueOptions, 'signal' | 'runId' | 'onStage'>, stage: ProvisionStage, step: string): void {
    throwIfCancelled(opts.signal, `provisioning ${device.name}`);
    opts.onStage?.(stage);
    this.deps.bus.emit('pki:progress', { deviceId: device.id, deviceName: device.name, ...(opts.runId ? { runId: opts.runId } : {}), stage, step, done: stage === 'done' });
  }

  async clock(ref: string, link: LinkOptions | undefined, maxSkewSeconds = DEFAULT_MAX_SKEW_SECONDS): Promise<ClockStatus> {
    const device = this.device(ref);
    const ssh = await this.deps.links.ssh(device, link);
    return this.readClock(device, ssh, maxSkewSeconds);
  }

  private async readClock(device: Device, ssh: SshConnection, maxSkewSeconds = DEFAULT_MAX_SKEW_SECONDS): Promise<ClockStatus> {
    const { device: deviceTime, laptop } = await readDeviceClock(ssh);
    const skewSeconds = Math.round((deviceTime.getTime() - laptop.getTime()) / 1000);
    return { deviceId: device.id, deviceName: device.name, deviceTime: deviceTime.toISOString(), laptopTime: laptop.toISOString(), skewSeconds, ok: Math.abs(skewSeconds) <= maxSkewSeconds, maxSkewSeconds };
  }

  async setClock(ref: string, link: LinkOptions | undefined): Promise<ClockStatus> {
    const device = this.device(ref);
    const ssh = await this.deps.links.ssh(device, link);
    await setDeviceClock(ssh, new Date());
    const after = await this.readClock(device, ssh);
    if (!after.ok) throw new OutpostError('clock-skew', `${device.name}: the clock was set but still reads ${after.deviceTime} (${after.skewSeconds} s off); is an NTP client or RTC resetting it?`, { clock: after });
    return after;
  }

  private clockError(clock: ClockStatus): OutpostError {
    const ahead = clock.skewSeconds > 0 ? 'ahead of' : 'behind';
    return new OutpostError(
      'clock-skew',
      `${clock.deviceName}: its clock reads ${clock.deviceTime}, ${Math.abs(clock.skewSeconds)} s ${ahead} the laptop — a certificate would look ${clock.skewSeconds < 0 ? 'not yet valid' : 'wrong'} to it. Set it from the laptop (Set clock in the app, 'outpost clock set ${clock.deviceName}', or --set-clock) and try again`,
      { clock },
    );
  }

  private cache(passphrase?: string): UnlockCache {
    return new UnlockCache(this.deps, passphrase);
  }

  /** Unlocked CAs shared by the devices of one bulk run, dropped once the run has been quiet for a while. */
  private readonly runCaches = new Map<string, { passphrase?: string; cache: UnlockCache; timer: NodeJS.Timeout }>();

  /**
   * One unlock (one scrypt, one laptop client certificate) per bulk run instead of per device: a run's devices share
   * it; the decrypted CA key is forgotten 30 s after the run's last device used it.
   */
  private cacheFor(opts: Pick<IssueOptions, 'runId' | 'passphrase'>): UnlockCache {
    if (!opts.runId) return this.cache(opts.passphrase);
    const hit = this.runCaches.get(opts.runId);
    if (hit) clearTimeout(hit.timer);
    const entry = hit && hit.passphrase === opts.passphrase ? hit : { passphrase: opts.passphrase, cache: this.cache(opts.passphrase), timer: undefined as unknown as NodeJS.Timeout };
    entry.timer = setTimeout(() => this.runCaches.delete(opts.runId as string), 30_000).unref();
    this.runCaches.set(opts.runId, entry);
    return entry.cache;
  }

  async issue(opts: IssueOptions, cache = this.cacheFor(opts)): Promise<IssueResult> {
    const device = this.device(opts.device);
    const prof = profileOf(opts.profile);
    if (opts.install && !prof.targets.includes(opts.install)) throw new OutpostError('invalid-input', `profile ${prof.name} does not install to ${opts.install} (it goes to ${prof.targets.join(', ')})`);
    if (opts.install === 'files' && !opts.files) throw new OutpostError('invalid-input', 'the files target needs the paths: certPath and keyPath (and optionally caPath, crlPath, owner, keyMode, reload)');
    const ca = this.deps.repo.ca(opts.caId);
    const notes: string[] = [];
    // The passphrase is checked before the device is touched: a wrong one changes nothing anywhere.
    const signing = await cache.unlock(ca);
    if (new Date() > signing.certificate.notAfter) throw new OutpostError('expired', `the CA ${ca.name} expired on ${ca.notAfter}; it signs nothing`);
    const sans = approvedSans(device, prof.name, opts.extraSans);
    const commonName = commonNameFor(device, prof);

    this.progress(device, opts, 'connect', 'connecting');
    const ssh = await this.deps.links.ssh(device, opts.link);
    this.progress(device, opts, 'clock', 'checking the clock');
    let clock = await this.readClock(device, ssh);
    if (!clock.ok) {
      if (!opts.setClock || opts.planOnly) throw this.clockError(clock);
      this.progress(device, opts, 'clock', 'setting the clock');
      await setDeviceClock(ssh, new Date());
      notes.push(`clock set from the laptop (it read ${clock.deviceTime})`);
      clock = await this.readClock(device, ssh);
      if (!clock.ok) throw this.clockError(clock);
    }

    // The install is planned before a key is made: a target that cannot take the certificate (daemon.json that is not
    // JSON, an init Outpost cannot edit) fails here and the device is left exactly as it was.
    const ctx: TargetContext = { deps: this.deps, device, ssh, ca, signing, cache };
    const keySource = `${devicePkiDir(prof.name)}/key.pem`;
    const draft: (InstallPlan & { files?: unknown }) | null =
      opts.install === 'docker'
        ? await this.dockerPlan(device, ssh, `${ca.certificatePem}${ca.chainPem}`, '(the new certificate)', devicePkiDir(prof.name))
        : opts.install === 'mqtt'
          ? await planMqtt(ctx, '(the new certificate)', keySource, mqttOptions(opts.mqtt))
          : opts.install === 'files'
            ? await planFilesTarget(ctx, '(the new certificate)', keySource, opts.files as FilesTarget)
            : null;
    if (opts.planOnly) {
      return { certificate: null, caPem: ca.certificatePem, chainPem: ca.chainPem, clock, plan: draft ? stripAny(draft) : null, installed: false, notes: [...notes, 'plan only: nothing was changed on the device'] };
    }

    const dir = devicePkiDir(prof.name);
    this.progress(device, opts, 'key', 'making the key on the device');
    let keyOrigin: 'device' | 'laptop' = 'device';
    let csrPem: string;
    if (await hasOpenssl(ssh)) {
      csrPem = await generateKeyOnDevice(ssh, dir, commonName);
    } else {
      if (opts.allowLaptopKey === false) throw new OutpostError('unsupported', `${device.name} has no openssl to make its own key; allow a laptop-made key to go on`);
      keyOrigin = 'laptop';
      const keys = await generateKeyPair('ec-p256');
      csrPem = (await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys, signingAlgorithm: ALGORITHMS['ec-p256'].sign })).toString('pem');
      await sendKeyToDevice(ssh, dir, await privateKeyPem(keys.privateKey));
      notes.push(`${device.name} has no openssl: its key was made on the laptop and sent over the SSH link (recorded: the key left the laptop)`);
    }

    let certificate: x509.X509Certificate;
    let spki: string;
    let pem: string;
    try {
      this.progress(device, opts, 'sign', 'signing');
      const signed = await signRequest(csrPem, prof, { commonName, sans, lifetimeDays: opts.lifetimeDays, lifetimeMinutes: opts.lifetimeMinutes }, signing);
      certificate = signed.certificate;
      spki = signed.spki;
      pem = signed.pem;
      notes.push(...signed.notes);
      const deviceNow = new Date(clock.deviceTime);
      if (deviceNow < certificate.notBefore || deviceNow > certificate.notAfter) throw this.clockError(clock);
    } catch (err) {
      await discardPendingKey(ssh, dir);
      throw err;
    }
    const record = certificateRecord(certificate, {
      caId: ca.id,
      profile: prof,
      spki,
      deviceId: device.id,
      sans,
      keyOrigin,
      replaces: opts.replaces,
      pem,
      installed: [{ target: 'device-store', paths: [`${dir}/key.pem`, `${dir}/cert.pem`, `${dir}/ca.pem`] }],
    });
    const caPem = `${ca.certificatePem}${ca.chainPem}`;
    this.progress(device, opts, 'store', 'storing the certificate on the device');
    await storeOnDevice(ssh, dir, { certPem: record.pem, caPem });
    this.deps.repo.insertCertificate(record);
    this.deps.bus.emit('pki:changed', { serials: [record.serial] });

    let plan: InstallPlan | null = null;
    if (opts.install) {
      plan = await this.installTarget(ctx, opts.install, record.serial, record.pem, dir, { files: opts.files, mqtt: opts.mqtt });
      notes.push(...plan.notes);
    }
    this.progress(device, opts, 'verify', 'verifying on the device');
    const how = await verifyOnDevice(ssh, dir, record.pem);
    notes.push(how === 'openssl' ? `${device.name}'s own openssl accepts the certificate (its clock, the site CA) and its key matches` : `${device.name} has no openssl: its certificate was read back and matches`);
    this.progress(device, opts, 'done', 'done');
    return { certificate: this.deps.repo.certificate(record.serial), caPem: ca.certificatePem, chainPem: ca.chainPem, clock, plan, installed: plan !== null, notes };
  }

  /** Plans, shows, applies and records one install target for a certificate whose key is in the device's store `dir`. */
  private async installTarget(ctx: TargetContext, target: InstallTarget, serial: string, certPem: string, dir: string, opts: { files?: FilesTarget; mqtt?: Partial<MqttTargetOptions>; planOnly?: boolean } & Pick<IssueOptions, 'signal' | 'runId' | 'onStage'>): Promise<InstallPlan> {
    const { device, ssh } = ctx;
    const keySource = `${dir}/key.pem`;
    const paths = (p: InstallPlan) => p.changes.filter((c) => c.path).map((c) => c.path as string);
    if (target === 'docker') {
      const plan = await this.dockerPlan(device, ssh, `${ctx.ca.certificatePem}${ctx.ca.chainPem}`, certPem, dir);
      if (opts.planOnly) return stripPlan(plan);
      this.progress(device, opts, 'install', plan.unchanged ? 'Docker TLS already in place' : 'installing Docker TLS and restarting the engine');
      await this.installDocker(device, ssh, ctx.ca, plan, ctx.cache);
      this.deps.repo.recordInstall(serial, 'docker', paths(plan));
      return stripPlan(plan);
    }
    if (target === 'mqtt') {
      const options = mqttOptions(opts.mqtt);
      const plan = await planMqtt(ctx, certPem, keySource, options);
      if (opts.planOnly) return stripAny(plan);
      this.progress(device, opts, 'install', plan.unchanged ? 'MQTT TLS already in place' : 'installing the MQTT TLS listener and restarting mosquitto');
      await installMqtt(ctx, plan);
      this.deps.repo.recordInstall(serial, 'mqtt', paths(plan), new Date(), { mqtt: options });
      return stripAny(plan);
    }
    if (!opts.files) throw new OutpostError('invalid-input', 'the files target needs the paths: certPath and keyPath');
    const plan = await planFilesTarget(ctx, certPem, keySource, opts.files);
    if (opts.planOnly) return stripAny(plan);
    this.progress(device, opts, 'install', plan.unchanged ? 'files already in place' : 'writing the files');
    await installFiles(ctx, plan);
    this.deps.repo.recordInstall(serial, 'files', paths(plan), new Date(), { files: opts.files });
    return stripAny(plan);
  }

  private async dockerPlan(device: Device, ssh: SshConnection, caPem: string, certPem: string, dir: string): Promise<DockerPlan> {
    const facts = await readDockerFacts(ssh);
    const keySource = `${dir}/key.pem`;
    const hashes = await dockerHashes(ssh, keySource, facts);
    return planDockerTls({ deviceName: device.name, facts, caPem, certPem, keySource, hashes, sha256 });
  }

  private async installDocker(device: Device, ssh: SshConnection, ca: StoredCa, plan: DockerPlan, cache: UnlockCache): Promise<void> {
    const creds = await cache.laptopCredentials(ca, 'docker-client');
    const host = ssh.target.host;
    await applyDockerPlan(plan, {
      ssh,
      tlsHealthy: () => tlsPing(host, DOCKER_TLS_PORT, creds),
      localHealthy: async () => {
        const docker = await this.deps.links.docker(device);
        await docker.ping();
        return true;
      },
    });
    if (!(await tlsPing(host, DOCKER_TLS_PORT, creds))) throw new OutpostError('unreachable', `${device.name}: the engine does not answer over mTLS on ${host}:${DOCKER_TLS_PORT}`);
    const current = this.deps.devices.get(device.id);
    this.deps.devices.save({ ...current, docker: { ...(current.docker ?? {}), tls: true, port: DOCKER_TLS_PORT, caId: ca.id } });
    this.deps.bus.emit('devices:changed', { ids: [device.id] });
    this.deps.onEngineLinkChanged?.(current);
  }

  /** Installs a certificate already on the device (its store) again: idempotent, nothing restarts when all is in place. */
  async install(serial: string, target: InstallTarget, opts: { link?: LinkOptions; passphrase?: string; planOnly?: boolean; files?: FilesTarget; mqtt?: Partial<MqttTargetOptions> }): Promise<IssueResult> {
    const cert = this.deps.repo.certificate(serial);
    if (!cert.deviceId) throw new OutpostError('invalid-input', `certificate ${serial} belongs to no device`);
    const prof = profileOf(cert.profile);
    if (!prof.targets.includes(target)) throw new OutpostError('invalid-input', `profile ${prof.name} does not install to ${target} (it goes to ${prof.targets.join(', ')})`);
    const previous = cert.installed.find((i) => i.target === target);
    const files = opts.files ?? previous?.files;
    if (target === 'files' && !files) throw new OutpostError('invalid-input', 'the files target needs the paths: certPath and keyPath');
    const device = this.deps.devices.get(cert.deviceId);
    const ca = this.deps.repo.ca(cert.caId);
    const cache = this.cache(opts.passphrase);
    const signing = await cache.unlock(ca);
    const ssh = await this.deps.links.ssh(device, opts.link);
    const dir = devicePkiDir(cert.profile);
    const stored = await readRemote(ssh, `${dir}/cert.pem`);
    if (stored?.trim() !== cert.pem.trim()) throw new OutpostError('conflict', `${device.name}: ${dir}/cert.pem is not certificate ${cert.serial} (a newer one was issued, or the device was reset): issue a new one`);
    const ctx: TargetContext = { deps: this.deps, device, ssh, ca, signing, cache };
    const plan = await this.installTarget(ctx, target, cert.serial, cert.pem, dir, { files, mqtt: opts.mqtt ?? previous?.mqtt, planOnly: opts.planOnly });
    return { certificate: this.deps.repo.certificate(cert.serial), caPem: ca.certificatePem, chainPem: ca.chainPem, clock: null, plan, installed: !opts.planOnly, notes: plan.notes };
  }

  /** Same profile, a new key on the device, works after expiry too; reinstalls where the old one was installed. */
  async renew(serial: string, opts: { link?: LinkOptions; passphrase?: string; setClock?: boolean }): Promise<IssueResult> {
    const old = this.deps.repo.certificate(serial);
    if (!old.deviceId) {
      const ca = this.deps.repo.ca(old.caId);
      const signing = await this.deps.cas.unlock(ca, opts.passphrase);
      this.deps.repo.revoke(old.serial, 'superseded');
      const fresh = await ensureLaptopClient(this.deps.repo, ca, signing, this.deps.vault(opts.passphrase));
      return { certificate: fresh, caPem: ca.certificatePem, chainPem: ca.chainPem, clock: null, plan: null, installed: true, notes: [`the laptop's ${old.profile} certificate was renewed; ${old.serial} is marked superseded`] };
    }
    const where = old.installed.find((i) => i.target === 'docker' || i.target === 'mqtt' || i.target === 'files');
    const install = where?.target as InstallTarget | undefined;
    const lifetimeMinutes = Math.round((new Date(old.notAfter).getTime() - new Date(old.notBefore).getTime()) / 60_000) - profileOf(old.profile).backdateMinutes;
    // A short-lived certificate is renewed short-lived; the others get the profile's lifetime.
    const short = lifetimeMinutes < 24 * 60 ? { lifetimeMinutes: Math.max(1, lifetimeMinutes) } : {};
    return this.issue({ device: old.deviceId, profile: old.profile, caId: old.caId, install, files: where?.files, mqtt: where?.mqtt, link: opts.link, passphrase: opts.passphrase, setClock: opts.setClock, replaces: old.serial, ...short });
  }
}

function stripPlan(plan: DockerPlan): InstallPlan {
  const { files: _f, restartArgv: _r, ...rest } = plan;
  return rest;
}

/** The plan as it crosses the boundary: what changes, not the files' contents or the argv. */
function stripAny(plan: InstallPlan & { files?: unknown; restartArgv?: unknown; reloadArgv?: unknown; port?: unknown }): InstallPlan {
  const { files: _f, restartArgv: _r, reloadArgv: _l, port: _p, ...rest } = plan;
  return rest;
}
