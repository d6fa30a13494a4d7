import { createHash } from 'node:crypto';
import type { Device } from '../../../shared/contract';
import type { ClockStatus, InstallTarget, IssueResult, ProfileName, SubjectAltName } from '../../../shared/contract/pki';
import type { LinkOptions } from '../../../shared/contract/link';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { EventBus } from '../router';
import type { Vault } from '../secrets/vault';
import type { DevicesRepo } from '../store/devices-repo';
import type { DeviceLinks } from '../transport/device-links';
import type { SshConnection } from '../transport/ssh-connection';
import { ALGORITHMS, generateKeyPair, privateKeyPem, x509 } from './crypto';
import { devicePkiDir, discardPendingKey, generateKeyOnDevice, hasOpenssl, readDeviceClock, readRemote, sendKeyToDevice, setDeviceClock, storeOnDevice } from './device-ops';
import { applyDockerPlan, dockerHashes, DOCKER_TLS_PORT, planDockerTls, readDockerFacts, type DockerPlan } from './docker-target';
import { ensureLaptopClient, laptopClientCredentials, tlsPing } from './laptop-client';
import type { PkiRepo, StoredCa } from './pki-repo';
import { profile as profileOf } from './profiles';
import { parseSan, signRequest, type SigningCa } from './signer';
import type { SiteCas } from './site-ca';

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
  link?: LinkOptions;
  passphrase?: string;
  replaces?: string;
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

/**
 * Issuing to a device, end to end: clock first, the key made on the device, the CSR checked and signed by the
 * profile, the certificate stored next to its key, then (optionally) an install target, planned before it runs.
 */
export class Issuer {
  constructor(private readonly deps: IssuerDeps) {}

  private device(ref: string): Device {
    const device = this.deps.devices.find(ref);
    if (!device) throw new OutpostError('not-found', `no device matches ${JSON.stringify(ref)}`);
    return device;
  }

  private progress(device: Device, step: string, done = false, error?: string): void {
    this.deps.bus.emit('pki:progress', { deviceId: device.id, deviceName: device.name, step, done, ...(error ? { error } : {}) });
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
      `${clock.deviceName}: its clock reads ${clock.deviceTime}, ${Math.abs(clock.skewSeconds)} s ${ahead} the laptop — a certificate would look ${clock.skewSeconds < 0 ? 'not yet valid' : 'wrong'} to it. Set it (outpost clock set ${clock.deviceName}, or --set-clock) and try again`,
      { clock },
    );
  }

  async issue(opts: IssueOptions): Promise<IssueResult> {
    const device = this.device(opts.device);
    const prof = profileOf(opts.profile);
    if (opts.install && !prof.targets.includes(opts.install)) throw new OutpostError('invalid-input', `profile ${prof.name} does not install to ${opts.install} (it goes to ${prof.targets.join(', ')})`);
    const ca = this.deps.repo.ca(opts.caId);
    const notes: string[] = [];
    // The passphrase is checked before the device is touched: a wrong one changes nothing anywhere.
    const signing = await this.deps.cas.unlock(ca, opts.passphrase);
    if (new Date() > signing.certificate.notAfter) throw new OutpostError('expired', `the CA ${ca.name} expired on ${ca.notAfter}; it signs nothing`);
    const sans = approvedSans(device, prof.name, opts.extraSans);
    const commonName = prof.sans === 'none' ? `${device.name}-${prof.name}`.slice(0, 64) : device.name.slice(0, 64);

    this.progress(device, 'connecting');
    const ssh = await this.deps.links.ssh(device, opts.link);
    this.progress(device, 'checking the clock');
    let clock = await this.readClock(device, ssh);
    if (!clock.ok) {
      if (!opts.setClock || opts.planOnly) throw this.clockError(clock);
      this.progress(device, 'setting the clock');
      await setDeviceClock(ssh, new Date());
      notes.push(`clock set from the laptop (it read ${clock.deviceTime})`);
      clock = await this.readClock(device, ssh);
      if (!clock.ok) throw this.clockError(clock);
    }

    // The install is planned before a key is made: a target that cannot take the certificate (daemon.json that is not
    // JSON, an init Outpost cannot edit) fails here and the device is left exactly as it was.
    const draft = opts.install === 'docker' ? await this.dockerPlan(device, ssh, `${ca.certificatePem}${ca.chainPem}`, '(the new certificate)', devicePkiDir(prof.name)) : null;
    if (opts.planOnly) {
      return { certificate: null, caPem: ca.certificatePem, chainPem: ca.chainPem, clock, plan: draft ? stripPlan(draft) : null, installed: false, notes: [...notes, 'plan only: nothing was changed on the device'] };
    }

    const dir = devicePkiDir(prof.name);
    this.progress(device, 'making the key on the device');
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

    this.progress(device, 'signing');
    let certificate: x509.X509Certificate;
    let spki: string;
    try {
      const signed = await signRequest(csrPem, prof, { commonName, sans, lifetimeDays: opts.lifetimeDays }, signing);
      certificate = signed.certificate;
      spki = signed.spki;
      notes.push(...signed.notes);
      const deviceNow = new Date(clock.deviceTime);
      if (deviceNow < certificate.notBefore || deviceNow > certificate.notAfter) throw this.clockError(clock);
    } catch (err) {
      await discardPendingKey(ssh, dir);
      throw err;
    }
    const record = {
      serial: certificate.serialNumber,
      caId: ca.id,
      profile: prof.name,
      profileVersion: prof.version,
      deviceId: device.id,
      subject: certificate.subject,
      sans,
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
      issuedAt: new Date().toISOString(),
      spkiSha256: spki,
      keyOrigin,
      status: 'valid' as const,
      revokedAt: null,
      revokeReason: null,
      replaces: opts.replaces ?? null,
      installed: [{ target: 'device-store', paths: [`${dir}/key.pem`, `${dir}/cert.pem`, `${dir}/ca.pem`], at: new Date().toISOString() }],
      pem: `${certificate.toString('pem')}\n`,
    };
    const caPem = `${ca.certificatePem}${ca.chainPem}`;
    this.progress(device, 'storing the certificate on the device');
    await storeOnDevice(ssh, dir, { certPem: record.pem, caPem });
    this.deps.repo.insertCertificate(record);
    this.deps.bus.emit('pki:changed', { serials: [record.serial] });

    let plan: DockerPlan | null = null;
    let installed = false;
    if (opts.install === 'docker') {
      plan = await this.dockerPlan(device, ssh, caPem, record.pem, dir);
      await this.installDocker(device, ssh, ca, signing, plan, opts.passphrase);
      this.deps.repo.recordInstall(record.serial, 'docker', plan.changes.filter((c) => c.path).map((c) => c.path as string));
      installed = true;
      notes.push(...plan.notes);
    } else if (opts.install) {
      notes.push(`install target ${opts.install} is not built yet: the certificate and key are in ${dir} on the device`);
    }
    this.progress(device, 'done', true);
    return { certificate: this.deps.repo.certificate(record.serial), caPem: ca.certificatePem, chainPem: ca.chainPem, clock, plan: plan ? stripPlan(plan) : null, installed, notes };
  }

  private async dockerPlan(device: Device, ssh: SshConnection, caPem: string, certPem: string, dir: string): Promise<DockerPlan> {
    const facts = await readDockerFacts(ssh);
    const keySource = `${dir}/key.pem`;
    const hashes = await dockerHashes(ssh, keySource, facts);
    return planDockerTls({ deviceName: device.name, facts, caPem, certPem, keySource, hashes, sha256 });
  }

  private async installDocker(device: Device, ssh: SshConnection, ca: StoredCa, signing: SigningCa, plan: DockerPlan, passphrase?: string): Promise<void> {
    const vault = this.deps.vault(passphrase);
    await ensureLaptopClient(this.deps.repo, ca, signing, vault);
    const creds = laptopClientCredentials(this.deps.repo, ca, vault);
    const host = ssh.target.host;
    this.progress(device, plan.unchanged ? 'Docker TLS already in place' : 'installing Docker TLS and restarting the engine');
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
  async install(serial: string, target: InstallTarget, opts: { link?: LinkOptions; passphrase?: string; planOnly?: boolean }): Promise<IssueResult> {
    const cert = this.deps.repo.certificate(serial);
    if (!cert.deviceId) throw new OutpostError('invalid-input', `certificate ${serial} belongs to no device`);
    if (target !== 'docker') throw new OutpostError('unsupported', `reinstalling to ${target} is not built yet`);
    const device = this.deps.devices.get(cert.deviceId);
    const ca = this.deps.repo.ca(cert.caId);
    const signing = await this.deps.cas.unlock(ca, opts.passphrase);
    const ssh = await this.deps.links.ssh(device, opts.link);
    const dir = devicePkiDir(cert.profile);
    const stored = await readRemote(ssh, `${dir}/cert.pem`);
    if (stored?.trim() !== cert.pem.trim()) throw new OutpostError('conflict', `${device.name}: ${dir}/cert.pem is not certificate ${cert.serial} (a newer one was issued, or the device was reset): issue a new one`);
    const plan = await this.dockerPlan(device, ssh, `${ca.certificatePem}${ca.chainPem}`, cert.pem, dir);
    if (!opts.planOnly) {
      await this.installDocker(device, ssh, ca, signing, plan, opts.passphrase);
      this.deps.repo.recordInstall(cert.serial, 'docker', plan.changes.filter((c) => c.path).map((c) => c.path as string));
    }
    return { certificate: this.deps.repo.certificate(cert.serial), caPem: ca.certificatePem, chainPem: ca.chainPem, clock: null, plan: stripPlan(plan), installed: !opts.planOnly, notes: plan.notes };
  }

  /** Many devices at once, each answering for itself; the failures can be retried as a group. */
  async issueMany(refs: string[], opts: Omit<IssueOptions, 'device'>, concurrency = 8): Promise<Array<{ deviceId: string; deviceName: string; ok: boolean; result?: IssueResult; error?: { kind: string; message: string } }>> {
    const out: Array<{ deviceId: string; deviceName: string; ok: boolean; result?: IssueResult; error?: { kind: string; message: string } }> = new Array(refs.length);
    let next = 0;
    const worker = async () => {
      while (next < refs.length) {
        const i = next++;
        const ref = refs[i] as string;
        const device = this.deps.devices.find(ref);
        try {
          const result = await this.issue({ ...opts, device: ref });
          out[i] = { deviceId: device?.id ?? ref, deviceName: device?.name ?? ref, ok: true, result };
        } catch (err) {
          const body = toErrorBody(err);
          if (device) this.progress(device, 'failed', true, body.message);
          out[i] = { deviceId: device?.id ?? ref, deviceName: device?.name ?? ref, ok: false, error: { kind: body.kind, message: body.message } };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, refs.length) }, worker));
    return out;
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
    const install = old.installed.map((i) => i.target).find((t): t is InstallTarget => t === 'docker' || t === 'mqtt' || t === 'files');
    return this.issue({ device: old.deviceId, profile: old.profile, caId: old.caId, install, link: opts.link, passphrase: opts.passphrase, setClock: opts.setClock, replaces: old.serial });
  }
}

function stripPlan(plan: DockerPlan): IssueResult['plan'] {
  const { files: _f, restartArgv: _r, ...rest } = plan;
  return rest;
}
