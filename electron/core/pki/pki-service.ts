import type { Device } from '../../../shared/contract';
import { OutpostError, toErrorBody } from '../../../shared/errors';
import type { JobRegistry } from '../jobs/job-registry';
import type { EventBus, Router } from '../router';
import { Vault } from '../secrets/vault';
import type { Db } from '../store/database';
import type { DevicesRepo } from '../store/devices-repo';
import type { DeviceLinks } from '../transport/device-links';
import type { BulkProvisioner } from './bulk';
import type { Issuer } from './issuer';
import { currentLaptopClient, laptopClientCredentials, type TlsCredentials } from './laptop-credentials';
import { PkiRepo, publicInfo } from './pki-repo';
import type { SiteCas } from './site-ca';

export interface PkiDeps {
  router: Router;
  bus: EventBus;
  db: Db;
  devices: DevicesRepo;
  links: DeviceLinks;
  /** The app's vault: unlocked for the session in the UI, or by OUTPOST_PASSPHRASE / --passphrase-file. */
  vault: Vault;
  /** Bulk provisioning runs each device as a job (cancellable, holding the device's lock). */
  jobs: JobRegistry;
  onEngineLinkChanged?(device: Device): void;
}

export interface PkiHandle {
  repo: PkiRepo;
  /** The signer and the issuing flow, loaded on first use (the X.509 library costs ~0.2 s of CLI start-up). */
  load(): Promise<{ cas: SiteCas; issuer: Issuer; bulk: BulkProvisioner }>;
  /** The laptop's docker-client credentials for a device's engine, pinned to the CA that signed the engine's certificate. */
  tlsCredentials(device: Device): Promise<TlsCredentials>;
}

const DOCKERD_CRL_NOTE =
  'dockerd does not check certificate revocation lists: a revoked docker-client certificate keeps working on Docker engines until it expires. To lock it out, move the engines to a new site CA (outpost ca init, then outpost cert issue <device> --profile docker-server --install docker --ca <new>), and keep docker-client lifetimes short.';

/** Registers every `pki:*` channel. The CA key is sealed in the vault: its passphrase comes with the call, else the vault's unlock. */
export function registerPkiService(deps: PkiDeps): PkiHandle {
  const { router, bus, db } = deps;
  const repo = new PkiRepo(db);
  // A passphrase given with the call is checked against the vault's verifier by a one-off instance; without one, the
  // app's vault answers (session unlock, environment, keychain).
  const vault = (passphrase?: string) => (passphrase === undefined ? deps.vault : new Vault(db, () => passphrase));
  let loading: Promise<{ cas: SiteCas; issuer: Issuer; bulk: BulkProvisioner }> | null = null;
  const load = () =>
    (loading ??= Promise.all([import('./site-ca'), import('./issuer'), import('./bulk')]).then(([{ SiteCas }, { Issuer }, { BulkProvisioner }]) => {
      const cas = new SiteCas(repo, vault);
      const issuer = new Issuer({ repo, cas, vault, devices: deps.devices, links: deps.links, bus, onEngineLinkChanged: deps.onEngineLinkChanged });
      const bulk = new BulkProvisioner({ issue: (opts) => issuer.issue(opts), findDevice: (ref) => deps.devices.find(ref), jobs: deps.jobs, bus });
      return { cas, issuer, bulk };
    }));

  router.handle('pki:ca-list', () => repo.listCas().map(publicInfo));
  router.handle('pki:ca-create', async (args) => publicInfo(await (await load()).cas.create(args)));
  router.handle('pki:ca-import', async (args) => {
    const { cas } = await load();
    if (args.pkcs12Base64 !== undefined) {
      const { pkcs12ToPem } = await import('./pkcs12');
      const { certificatePem, keyPem } = await pkcs12ToPem(Buffer.from(args.pkcs12Base64, 'base64'), args.pkcs12Password ?? '');
      return publicInfo(await cas.importPem({ name: args.name, certificatePem, keyPem, passphrase: args.passphrase }));
    }
    return publicInfo(await cas.importPem({ name: args.name, certificatePem: args.certificatePem as string, keyPem: args.keyPem as string, keyPassphrase: args.keyPassphrase, passphrase: args.passphrase }));
  });
  router.handle('pki:ca-export', ({ caId }) => {
    const ca = repo.ca(caId);
    return { ca: publicInfo(ca), pem: `${ca.certificatePem}${ca.chainPem}` };
  });
  router.handle('pki:cert-list', (filter) => repo.certificates({ caId: filter.caId, deviceId: filter.deviceId ? (deps.devices.find(filter.deviceId)?.id ?? filter.deviceId) : undefined }));
  router.handle('pki:sign-csr', async (args) => {
    const [{ cas }, { profile }, { parseSan, signRequest }, { certificateRecord }] = await Promise.all([load(), import('./profiles'), import('./signer'), import('./record')]);
    const ca = repo.ca(args.caId);
    const prof = profile(args.profile);
    const sans = args.approvedSans.map((s) => {
      const san = parseSan(s);
      if (!san) throw new OutpostError('invalid-input', `${JSON.stringify(s)} is neither a hostname nor an IP address`);
      return san;
    });
    const signing = await cas.unlock(ca, args.passphrase);
    const { certificate, spki, pem } = await signRequest(args.csrPem, prof, { commonName: args.commonName ?? 'outpost', sans }, signing);
    repo.insertCertificate(certificateRecord(certificate, { caId: ca.id, profile: prof, spki, deviceId: null, sans, keyOrigin: 'device', pem }));
    bus.emit('pki:changed', { serials: [certificate.serialNumber] });
    return repo.certificate(certificate.serialNumber);
  });
  router.handle('pki:preview', async ({ devices, profile: name, extraSans }) => {
    const [{ profile }, { approvedSans, commonNameFor }] = await Promise.all([import('./profiles'), import('./issuer')]);
    const prof = profile(name);
    return {
      profile: { name: prof.name, description: prof.description, lifetimeDays: prof.lifetimeDays, targets: prof.targets, sans: prof.sans },
      devices: devices.map((ref) => {
        const device = deps.devices.find(ref);
        if (!device) return { deviceId: ref, deviceName: ref, error: { kind: 'not-found', message: `no device matches ${JSON.stringify(ref)}` } };
        try {
          return { deviceId: device.id, deviceName: device.name, commonName: commonNameFor(device, prof), sans: approvedSans(device, prof.name, extraSans) };
        } catch (err) {
          const { kind, message } = toErrorBody(err);
          return { deviceId: device.id, deviceName: device.name, error: { kind, message } };
        }
      }),
    };
  });
  router.handle('pki:clock-check', async ({ device, link, maxSkewSeconds }) => (await load()).issuer.clock(device, link, maxSkewSeconds));
  router.handle('pki:clock-set', async ({ device, link }) => (await load()).issuer.setClock(device, link));
  router.handle('pki:issue', async (args) => (await load()).issuer.issue(args));
  router.handle('pki:issue-bulk', async ({ devices, concurrency, ...opts }) => (await load()).bulk.start(devices, opts, concurrency));
  router.handle('pki:bulk-retry', async ({ runId, ...overrides }) => (await load()).bulk.retry(runId, overrides));
  router.handle('pki:install', async ({ serial, target, planOnly, link, passphrase, files, mqtt }) => (await load()).issuer.install(serial, target, { link, passphrase, planOnly, files, mqtt }));
  router.handle('pki:laptop-client', async ({ caId, profile, outDir, passphrase }) => {
    const [{ cas }, { ensureLaptopClient }, { writeLaptopClientFiles }] = await Promise.all([load(), import('./laptop-client'), import('./laptop-files')]);
    const ca = repo.ca(caId);
    const v = vault(passphrase);
    const existing = currentLaptopClient(repo, ca.id, new Date(), profile);
    const certificate = existing ?? (await ensureLaptopClient(repo, ca, await cas.unlock(ca, passphrase), v, new Date(), profile));
    if (!existing) bus.emit('pki:changed', { serials: [certificate.serial] });
    const written = outDir ? writeLaptopClientFiles(outDir, await laptopClientCredentials(repo, ca, v, profile)) : [];
    return { certificate, caPem: `${ca.certificatePem}${ca.chainPem}`, written };
  });
  router.handle('pki:renew', async ({ serial, link, passphrase, setClock }) => (await load()).issuer.renew(serial, { link, passphrase, setClock }));
  router.handle('pki:revoke', async ({ serial, reason, passphrase, push, link }) => {
    const [{ cas }, { pushCrl }, { UnlockCache }] = await Promise.all([load(), import('./targets'), import('./unlock-cache')]);
    const cert = repo.certificate(serial);
    const ca = repo.ca(cert.caId);
    const cache = new UnlockCache({ cas, repo, vault }, passphrase);
    const signing = await cache.unlock(ca);
    repo.revoke(cert.serial, reason);
    const crlPem = await cas.crl(repo.ca(ca.id), signing);
    bus.emit('pki:changed', { serials: [cert.serial] });
    const { issuer } = await load();
    const pushedTo = push ? await pushCrl(issuer.deps, ca, cache, crlPem, link) : [];
    const notes = [
      ...(cert.profile === 'docker-client' || cert.profile === 'docker-server' ? [DOCKERD_CRL_NOTE] : []),
      pushedTo.length
        ? `the new CRL went to the targets that check one (mosquitto's crlfile, files targets with a CRL path); dockerd does not check CRLs`
        : `no installed target of CA ${ca.name} checks a CRL yet (mosquitto installs and files targets with a CRL path do); write it where your services read it (--crl-out)`,
    ];
    return { certificate: repo.certificate(cert.serial), crlPem, pushedTo, notes };
  });

  return {
    repo,
    load,
    tlsCredentials(device) {
      const ca = repo.ca(device.docker?.caId);
      return laptopClientCredentials(repo, ca, vault());
    },
  };
}
