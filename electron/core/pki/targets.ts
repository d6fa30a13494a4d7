import { createHash } from 'node:crypto';
import type { Device } from '../../../shared/contract';
import type { LinkOptions } from '../../../shared/contract/link';
import type { CertificateRecord, FilesTarget, MqttTargetOptions } from '../../../shared/contract/pki';
import { MqttTargetOptions as MqttOptionsSchema } from '../../../shared/contract/pki';
import { toErrorBody } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';
import { readRemote, runOnDevice, writeRemote } from './device-ops';
import { applyFilesPlan, filesHashes, planFiles, type FilesPlan } from './files-target';
import type { IssuerDeps } from './issuer';
import { mqttPing } from './laptop-client';
import { applyMqttPlan, MQTT_FILES, mqttHashes, planMqttTls, pushCrlToBroker, readMosquittoFacts, type MqttPlan } from './mqtt-target';
import type { StoredCa } from './pki-repo';
import type { SigningCa } from './signer';
import { crlIsCurrent } from './site-ca';
import type { UnlockCache } from './unlock-cache';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface TargetContext {
  deps: IssuerDeps;
  device: Device;
  ssh: SshConnection;
  ca: StoredCa;
  signing: SigningCa;
  cache: UnlockCache;
}

/** The CRL a target should hold: the one already on the device if it is still current, else a freshly signed one. */
async function crlFor(ctx: TargetContext, onDevicePath: string | undefined): Promise<string> {
  const existing = onDevicePath ? await readRemote(ctx.ssh, onDevicePath) : null;
  const revoked = ctx.deps.repo.revokedUnexpired(ctx.ca.id).map((c) => c.serial);
  if (existing && (await crlIsCurrent(existing, ctx.ca, revoked))) return existing;
  return ctx.deps.cas.crl(ctx.deps.repo.ca(ctx.ca.id), ctx.signing);
}

export const mqttOptions = (o: Partial<MqttTargetOptions> | undefined): MqttTargetOptions => MqttOptionsSchema.parse(o ?? {});

export async function planMqtt(ctx: TargetContext, certPem: string, keySource: string, options: MqttTargetOptions): Promise<MqttPlan> {
  const facts = await readMosquittoFacts(ctx.ssh);
  const hashes = await mqttHashes(ctx.ssh, keySource, facts);
  const crlPem = await crlFor(ctx, MQTT_FILES.crl);
  return planMqttTls({ deviceName: ctx.device.name, facts, options, caPem: `${ctx.ca.certificatePem}${ctx.ca.chainPem}`, certPem, crlPem, keySource, hashes, sha256 });
}

/** The laptop's mqtt-client certificate (made on first need) proves the listener: an mTLS CONNECT must be accepted. */
export async function installMqtt(ctx: TargetContext, plan: MqttPlan): Promise<void> {
  const creds = await ctx.cache.laptopCredentials(ctx.ca, 'mqtt-client');
  const host = ctx.ssh.target.host;
  await applyMqttPlan(plan, { ssh: ctx.ssh, tlsHealthy: () => mqttPing(host, plan.port, creds) });
}

export async function planFilesTarget(ctx: TargetContext, certPem: string, keySource: string, spec: FilesTarget): Promise<FilesPlan> {
  const hashes = await filesHashes(ctx.ssh, spec, keySource);
  const crlPem = spec.crlPath ? await crlFor(ctx, spec.crlPath) : null;
  return planFiles({ deviceName: ctx.device.name, spec, caPem: `${ctx.ca.certificatePem}${ctx.ca.chainPem}`, certPem, crlPem, keySource, hashes, sha256 });
}

export const installFiles = (ctx: TargetContext, plan: FilesPlan): Promise<void> => applyFilesPlan(ctx.ssh, plan);

export interface PushResult {
  deviceName: string;
  target: string;
  ok: boolean;
  message: string;
}

/**
 * A new CRL to every target of the CA that honours one: each mosquitto the CA's mqtt-server certificates were
 * installed to (crlfile rewritten, broker restarted through its service manager, an mTLS CONNECT checked) and every
 * files target given a CRL path (rewritten, its reload run). Each device answers for itself.
 */
export async function pushCrl(deps: IssuerDeps, ca: StoredCa, cache: UnlockCache, crlPem: string, link: LinkOptions | undefined): Promise<PushResult[]> {
  const holders = deps.repo
    .certificates({ caId: ca.id })
    .filter((c) => c.status === 'valid' && c.deviceId && new Date(c.notAfter) > new Date())
    .flatMap((c) => c.installed.filter((i) => i.target === 'mqtt' || (i.target === 'files' && i.files?.crlPath)).map((i) => ({ cert: c, install: i })));
  const byDevice = new Map<string, Array<{ cert: CertificateRecord; install: CertificateRecord['installed'][number] }>>();
  const seen = new Set<string>();
  for (const h of holders) {
    // One push per device and place: a renewed certificate and the one it replaced share the same broker.
    const key = `${h.cert.deviceId}|${h.install.target}|${h.install.files?.crlPath ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    byDevice.set(h.cert.deviceId as string, [...(byDevice.get(h.cert.deviceId as string) ?? []), h]);
  }
  const out: PushResult[] = [];
  await Promise.all(
    [...byDevice.entries()].map(async ([deviceId, list]) => {
      const device = deps.devices.get(deviceId);
      let ssh: SshConnection;
      try {
        ssh = await deps.links.ssh(device, link);
      } catch (err) {
        for (const h of list) out.push({ deviceName: device.name, target: h.install.target, ok: false, message: `not pushed: ${toErrorBody(err).message}` });
        return;
      }
      for (const h of list) {
        try {
          if (h.install.target === 'mqtt') {
            const creds = await cache.laptopCredentials(ca, 'mqtt-client');
            const facts = await readMosquittoFacts(ssh);
            const port = mqttOptions(h.install.mqtt).port;
            await pushCrlToBroker(ssh, facts.init, crlPem, port, { tlsHealthy: () => mqttPing(ssh.target.host, port, creds) });
            out.push({ deviceName: device.name, target: 'mqtt', ok: true, message: `${MQTT_FILES.crl} written, mosquitto restarted and accepting mTLS on ${port}` });
          } else {
            const spec = h.install.files as FilesTarget;
            await writeRemote(ssh, { path: spec.crlPath as string, content: crlPem, owner: spec.owner, mode: '0644' });
            await runOnDevice(ssh, ['sh', '-c', 'rm -f "$1.outpost-prev" "$1.outpost-absent"', 'sh', spec.crlPath as string]);
            let message = `${spec.crlPath} written`;
            if (spec.reload?.length) {
              const r = await runOnDevice(ssh, spec.reload);
              if (r.code !== 0) throw new Error(`${spec.crlPath} written, but the reload exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
              message += `, ${spec.reload.join(' ')} ran`;
            }
            out.push({ deviceName: device.name, target: 'files', ok: true, message });
          }
        } catch (err) {
          out.push({ deviceName: device.name, target: h.install.target, ok: false, message: toErrorBody(err).message });
        }
      }
    }),
  );
  return out;
}
