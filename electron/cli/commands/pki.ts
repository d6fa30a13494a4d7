import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { CertificateRecord, FilesTarget, InstallPlan, InstallTarget, IssueResult, KeyAlgorithm, ProfileName } from '../../../shared/contract/pki';
import { expiryState, INSTALL_TARGETS, KEY_ALGORITHMS, PROFILE_NAMES } from '../../../shared/contract/pki-names';
import { OutpostError } from '../../../shared/errors';
import { collect, leaf, parseIntOption, runWith, type CliIo, type CommandContext } from '../context';
import { table } from '../table';
import { linkFrom, withLinkFlags, type LinkFlags } from '../link-flags';
import { resolveDeviceIds } from '../resolve-device';

// The CA keys are sealed in the vault: the global --passphrase-file (or OUTPOST_PASSPHRASE) opens it.

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new OutpostError('invalid-input', `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

const choice = <T extends string>(name: string, values: readonly T[]) => (value: string): T => {
  if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
  return value as T;
};

const day = (iso: string) => iso.slice(0, 10);
const expiryLabel = (c: CertificateRecord) => (c.status === 'revoked' ? 'revoked' : expiryState(c.notAfter));

export function formatPlan(plan: InstallPlan): string {
  const lines = [`${plan.target} on ${plan.deviceName}${plan.unchanged ? ': already in place, nothing to change' : ':'}`];
  for (const c of plan.changes) lines.push(`  ${c.action.padEnd(5)} ${c.path ?? ''}${c.mode ? ` (${c.owner} ${c.mode})` : ''}  ${c.detail}`);
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

function certTable(list: CertificateRecord[]): string {
  if (!list.length) return 'No certificates issued yet.';
  return table(
    ['SERIAL', 'PROFILE', 'DEVICE', 'SUBJECT', 'NOT AFTER', 'STATE', 'KEY MADE ON', 'INSTALLED'],
    list.map((c) => [c.serial.slice(0, 16), c.profile, c.deviceName ?? '(laptop)', c.subject, day(c.notAfter), expiryLabel(c), c.keyOrigin, c.installed.map((i) => i.target).join(',')]),
  );
}

interface TargetFlags {
  mqttPort?: number;
  mqttIdentity?: boolean;
  certPath?: string;
  keyPath?: string;
  caPath?: string;
  crlPath?: string;
  owner?: string;
  keyMode?: string;
  reload?: string;
}

/** --install mqtt / files options as the contract's shapes; --reload is split on blanks into argv (no shell runs it). */
export function targetOptions(o: TargetFlags): { mqtt?: { port?: number; identityAsUsername?: boolean }; files?: FilesTarget } {
  const mqtt = o.mqttPort !== undefined || o.mqttIdentity === false ? { port: o.mqttPort, identityAsUsername: o.mqttIdentity } : undefined;
  const anyFiles = o.certPath || o.keyPath || o.caPath || o.crlPath || o.reload;
  if (anyFiles && (!o.certPath || !o.keyPath)) throw new OutpostError('invalid-input', '--install files needs --cert-path and --key-path');
  const files = anyFiles
    ? { certPath: o.certPath as string, keyPath: o.keyPath as string, caPath: o.caPath, crlPath: o.crlPath, owner: o.owner ?? 'root:root', keyMode: o.keyMode ?? '0600', reload: o.reload ? o.reload.trim().split(/\s+/) : undefined }
    : undefined;
  return { ...(mqtt ? { mqtt } : {}), ...(files ? { files } : {}) };
}

function withTargetFlags(cmd: Command): Command {
  return cmd
    .option('--mqtt-port <port>', 'mqtt target: the TLS listener port', parseIntOption('--mqtt-port'))
    .option('--no-mqtt-identity', 'mqtt target: do not use the client certificate’s CN as the MQTT username')
    .option('--cert-path <path>', 'files target: where the certificate goes')
    .option('--key-path <path>', 'files target: where the key goes (copied on the device; it never leaves it)')
    .option('--ca-path <path>', 'files target: where the CA certificate and chain go')
    .option('--crl-path <path>', 'files target: where the CRL goes (rewritten on every revoke)')
    .option('--owner <user[:group]>', 'files target: owner of the files', 'root:root')
    .option('--key-mode <mode>', 'files target: mode of the key', '0600')
    .option('--reload <command>', 'files target: run after the files change, e.g. "systemctl reload nginx" (words split on blanks; no shell)');
}

async function issue(ctx: CommandContext, io: CliIo, refs: string[], opts: LinkFlags & TargetFlags & { profile: ProfileName; install?: InstallTarget; san?: string[]; ca?: string; plan?: boolean; setClock?: boolean; days?: number; minutes?: number; concurrency: number; noLaptopKey?: boolean }) {
  const ids = await resolveDeviceIds(ctx, refs, opts);
  const common = {
    profile: opts.profile,
    caId: opts.ca,
    extraSans: opts.san ?? [],
    install: opts.install,
    planOnly: Boolean(opts.plan),
    setClock: Boolean(opts.setClock),
    allowLaptopKey: !opts.noLaptopKey,
    lifetimeDays: opts.days,
    lifetimeMinutes: opts.minutes,
    ...targetOptions(opts),
    link: linkFrom(opts),
  };
  // Per-device progress on stderr, one line per step, prefixed by the device so parallel devices stay readable.
  const off = ctx.api.on('pki:progress', (p) => ctx.log(`  ${p.deviceName}: ${p.stage === 'failed' ? `failed at ${p.step.replace(/^failed at /, '')} [${p.kind ?? 'error'}] ${p.error ?? ''}` : p.step}`));
  try {
    // One device or fifty: the same bulk path (each device a cancellable job holding its lock).
    const summary = await ctx.api.invoke('pki:issue-bulk', { ...common, devices: ids, concurrency: opts.concurrency });
    const only = summary.outcomes.length === 1 ? summary.outcomes[0] : undefined;
    if (only && !only.ok && only.error) throw new OutpostError(only.error.kind as never, only.error.message);
    if (only?.result) return { data: summary, human: formatIssue(only.result) };
    const failed = summary.outcomes.filter((r) => !r.ok);
    if (failed.length) io.setExitCode(1);
    const rows = summary.outcomes.map((r) => [
      r.deviceName,
      r.ok ? 'ok' : `${r.error?.kind ?? 'error'} at ${r.stage}`,
      r.ok ? `${r.result?.certificate?.serial.slice(0, 16) ?? '(plan only)'}${r.result?.certificate ? ` until ${day(r.result.certificate.notAfter)}` : ''}` : (r.error?.message ?? ''),
    ]);
    const clockFix = failed.some((f) => f.error?.kind === 'clock-skew') && !opts.setClock ? ' --set-clock' : '';
    const retry = failed.length
      ? `\nretry the ${failed.length} failed: outpost cert issue ${failed.map((f) => f.deviceName).join(' ')} --profile ${opts.profile}${opts.install ? ` --install ${opts.install}` : ''}${clockFix}`
      : '';
    return { data: summary, human: `${table(['DEVICE', 'RESULT', 'SERIAL / REASON'], rows)}\n${summary.succeeded} of ${summary.total} provisioned${retry}` };
  } finally {
    off();
  }
}

function formatIssue(r: IssueResult): string {
  return [
    r.plan ? formatPlan(r.plan) : '',
    r.certificate ? `issued ${r.certificate.serial} ${r.certificate.subject} (${r.certificate.profile}) valid ${day(r.certificate.notBefore)} → ${day(r.certificate.notAfter)}, key made on the ${r.certificate.keyOrigin}` : '',
    ...r.notes.map((n) => `note: ${n}`),
  ]
    .filter(Boolean)
    .join('\n');
}

export function registerPki(program: Command, io: CliIo): void {
  const ca = program.command('ca').description('site certificate authorities kept on this laptop (keys encrypted in the vault)');
  leaf(ca, 'init', 'create a site CA')
    .requiredOption('--name <name>', 'a name for the site CA (e.g. plant-3)')
    .option('--algorithm <alg>', `key type: ${KEY_ALGORITHMS.join(', ')}`, choice('--algorithm', KEY_ALGORITHMS), 'ec-p256')
    .option('--days <days>', 'validity in days', parseIntOption('--days'), 3650)
    .action(
      runWith(io, async (ctx, opts: { name: string; algorithm: KeyAlgorithm; days: number }) => {
        const r = await ctx.api.invoke('pki:ca-create', { name: opts.name, algorithm: opts.algorithm, validityDays: opts.days });
        return { data: { ...r, pem: r.certificatePem }, human: `created CA ${r.name} (${r.algorithm}) ${r.subject}, valid until ${day(r.notAfter)}` };
      }),
    );
  leaf(ca, 'import', 'import an intermediate CA issued by the company root: PEM certificate + chain and key, or a PKCS#12 bundle (key, certificate, chain)')
    .requiredOption('--name <name>', 'a name for it on this laptop')
    .option('--cert <file>', 'PEM: the CA certificate, then its chain')
    .option('--key <file>', 'PEM private key (PKCS#8, SEC1 or PKCS#1; may be encrypted)')
    .option('--key-passphrase-file <file>', 'passphrase of an encrypted key file')
    .option('--pkcs12 <file>', 'PKCS#12 bundle instead of PEM files')
    .option('--pkcs12-password-file <file>', 'password of the PKCS#12 bundle')
    .action(
      runWith(io, async (ctx, opts: { name: string; cert?: string; key?: string; keyPassphraseFile?: string; pkcs12?: string; pkcs12PasswordFile?: string }) => {
        const r = await ctx.api.invoke('pki:ca-import', {
          name: opts.name,
          certificatePem: opts.cert ? readText(opts.cert, 'certificate') : undefined,
          keyPem: opts.key ? readText(opts.key, 'key') : undefined,
          keyPassphrase: opts.keyPassphraseFile ? readText(opts.keyPassphraseFile, 'key passphrase').replace(/\r?\n$/, '') : undefined,
          pkcs12Base64: opts.pkcs12 ? readFileSync(opts.pkcs12).toString('base64') : undefined,
          pkcs12Password: opts.pkcs12PasswordFile ? readText(opts.pkcs12PasswordFile, 'PKCS#12 password').replace(/\r?\n$/, '') : undefined,
        });
        return { data: r, human: `imported CA ${r.name} ${r.subject} (${r.algorithm}), chain of ${(r.chainPem.match(/BEGIN CERTIFICATE/g) ?? []).length}, valid until ${day(r.notAfter)}` };
      }),
    );
  leaf(ca, 'export [ca]', 'the CA certificate and its chain (PEM)')
    .option('--out <file>', 'write the PEM to a file')
    .action(
      runWith(io, async (ctx, ref: string | undefined, opts: { out?: string }) => {
        const r = await ctx.api.invoke('pki:ca-export', { caId: ref ?? (await ctx.api.invoke('pki:ca-list', {})).map((c) => c.id)[0] ?? 'none' });
        if (opts.out) writeFileSync(opts.out, r.pem);
        return { data: { ...r, serial: undefined, notBefore: r.ca.notBefore, notAfter: r.ca.notAfter }, human: opts.out ? `wrote ${opts.out}` : r.pem.trimEnd() };
      }),
    );
  leaf(ca, 'list', 'site CAs on this laptop').action(
    runWith(io, async ({ api }) => {
      const list = await api.invoke('pki:ca-list', {});
      return { data: list, human: list.length ? table(['NAME', 'ALGORITHM', 'SUBJECT', 'NOT AFTER', 'ISSUED', 'IMPORTED'], list.map((c) => [c.name, c.algorithm, c.subject, day(c.notAfter), c.issued, c.imported ? 'yes' : 'no'])) : 'No site CA yet: outpost ca init --name <site>' };
    }),
  );

  const cert = program.command('cert').description('certificates issued by the site CA');
  withTargetFlags(withLinkFlags(leaf(cert, 'issue <device...>', 'clock check, key made on the device, signed by profile, optionally installed (docker, mqtt, files)')))
    .requiredOption('--profile <profile>', PROFILE_NAMES.join(', '), choice('--profile', PROFILE_NAMES))
    .option('--install <target>', `install target: ${INSTALL_TARGETS.join(', ')}`, choice('--install', INSTALL_TARGETS))
    .option('--san <name>', 'an extra DNS name or IP address to approve (repeatable)', collect)
    .option('--ca <ca>', 'which site CA (when there are several)')
    .option('--plan', 'show what would change on the device, change nothing')
    .option('--set-clock', 'set a device clock that is off by more than 5 minutes from the laptop')
    .option('--days <days>', 'lifetime in days (default: the profile’s)', parseIntOption('--days'))
    .option('--minutes <minutes>', 'a short-lived certificate: lifetime in minutes', parseIntOption('--minutes'))
    .option('--concurrency <n>', 'devices provisioned at once', parseIntOption('--concurrency'), 8)
    .option('--no-laptop-key', 'fail rather than make the key on the laptop when a device has no openssl')
    .action(runWith(io, async (ctx, refs: string[], opts) => issue(ctx, io, refs, opts as never)));
  leaf(cert, 'list', 'every issued certificate: serial, profile, device, expiry, where installed')
    .option('--device <device>', 'only this device')
    .action(
      runWith(io, async ({ api }, opts: { device?: string }) => {
        const list = await api.invoke('pki:cert-list', { deviceId: opts.device });
        return { data: list, human: certTable(list) };
      }),
    );
  withLinkFlags(leaf(cert, 'renew <serial>', 'a new certificate for the same device and profile, new key on the device (works after expiry)'))
    .option('--set-clock', 'set the device clock if it is off')
    .action(
      runWith(io, async (ctx, serial: string, opts: LinkFlags & { setClock?: boolean }) => {
        const r = await ctx.api.invoke('pki:renew', { serial, link: linkFrom(opts), setClock: Boolean(opts.setClock) });
        return { data: r, human: [r.certificate ? `renewed: ${r.certificate.serial} valid until ${day(r.certificate.notAfter)}` : 'renewed', ...r.notes.map((n) => `note: ${n}`)].join('\n') };
      }),
    );
  withTargetFlags(withLinkFlags(leaf(cert, 'install <serial>', 'install a certificate already in the device’s store (again): plan shown, idempotent')))
    .requiredOption('--target <target>', INSTALL_TARGETS.join(', '), choice('--target', INSTALL_TARGETS))
    .option('--plan', 'show what would change on the device, change nothing')
    .action(
      runWith(io, async (ctx, serial: string, opts: LinkFlags & TargetFlags & { target: InstallTarget; plan?: boolean }) => {
        const r = await ctx.api.invoke('pki:install', { serial, target: opts.target, planOnly: Boolean(opts.plan), ...targetOptions(opts), link: linkFrom(opts) });
        return { data: r, human: [r.plan ? formatPlan(r.plan) : '', ...r.notes.map((n) => `note: ${n}`)].filter(Boolean).join('\n') };
      }),
    );
  leaf(cert, 'laptop', 'the laptop’s own client certificate from the site CA (docker-client for engines, mqtt-client for the upstream broker)')
    .requiredOption('--profile <profile>', 'docker-client or mqtt-client', choice('--profile', ['docker-client', 'mqtt-client'] as const))
    .option('--ca <ca>', 'which site CA')
    .option('--out-dir <dir>', 'write ca.pem, cert.pem and key.pem (0600) there, for tools that read files (buffers upstream tls.certFile/keyFile/caFile)')
    .action(
      runWith(io, async (ctx, opts: { profile: 'docker-client' | 'mqtt-client'; ca?: string; outDir?: string }) => {
        const r = await ctx.api.invoke('pki:laptop-client', { profile: opts.profile, caId: opts.ca, outDir: opts.outDir });
        const c = r.certificate;
        return { data: r, human: [`${c.profile} ${c.serial} ${c.subject} valid ${day(c.notBefore)} → ${day(c.notAfter)} (key sealed in the vault)`, ...r.written.map((w) => `wrote ${w}`)].join('\n') };
      }),
    );
  withLinkFlags(leaf(cert, 'revoke <serial>', 'revoke a certificate, sign a new CRL and push it to the targets that check one (mosquitto, files with --crl-path); dockerd does not check CRLs'))
    .option('--reason <reason>', 'unspecified, keyCompromise, superseded, cessationOfOperation', 'unspecified')
    .option('--crl-out <file>', 'also write the CRL to a file')
    .option('--no-push', 'do not push the CRL to the devices now')
    .action(
      runWith(io, async (ctx, serial: string, opts: LinkFlags & { reason: string; crlOut?: string; push?: boolean }) => {
        const r = await ctx.api.invoke('pki:revoke', { serial, reason: opts.reason as never, push: opts.push !== false, link: linkFrom(opts) });
        if (opts.crlOut) writeFileSync(opts.crlOut, r.crlPem);
        if (r.pushedTo.some((p) => !p.ok)) io.setExitCode(1);
        const pushed = r.pushedTo.map((p) => `  CRL → ${p.deviceName} (${p.target ?? '?'}): ${p.ok ? 'ok — ' : 'FAILED — '}${p.message}`);
        return { data: r, human: [`revoked ${r.certificate.serial} (${r.certificate.subject})`, ...pushed, ...r.notes.map((n) => `note: ${n}`)].join('\n') };
      }),
    );
  leaf(cert, 'sign <csr-file>', 'sign a CSR made elsewhere, by profile (the CSR contributes only its key unless the profile allows names)')
    .requiredOption('--profile <profile>', PROFILE_NAMES.join(', '), choice('--profile', PROFILE_NAMES))
    .option('--san <name>', 'an approved DNS name or IP address (repeatable)', collect)
    .option('--cn <name>', 'the subject common name')
    .option('--ca <ca>', 'which site CA')
    .option('--out <file>', 'write the certificate PEM to a file')
    .action(
      runWith(io, async (ctx, file: string, opts: { profile: ProfileName; san?: string[]; cn?: string; ca?: string; out?: string }) => {
        const r = await ctx.api.invoke('pki:sign-csr', { csrPem: readText(file, 'CSR'), profile: opts.profile, caId: opts.ca, approvedSans: opts.san ?? [], commonName: opts.cn });
        if (opts.out) writeFileSync(opts.out, r.pem);
        return { data: r, human: opts.out ? `wrote ${opts.out} (serial ${r.serial})` : r.pem.trimEnd() };
      }),
    );

  const clock = program.command('clock').description('device clocks (a certificate is only valid on a device whose clock is right)');
  withLinkFlags(leaf(clock, 'check <device>', 'read the device clock and compare it with the laptop’s'))
    .option('--max-skew <seconds>', 'allowed difference', parseIntOption('--max-skew'), 300)
    .action(
      runWith(io, async (ctx, ref: string, opts: LinkFlags & { maxSkew: number }) => {
        const [id] = await resolveDeviceIds(ctx, [ref], opts);
        const r = await ctx.api.invoke('pki:clock-check', { device: id as string, link: linkFrom(opts), maxSkewSeconds: opts.maxSkew });
        if (!r.ok) io.setExitCode(1);
        return { data: r, human: `${r.deviceName}: ${r.deviceTime} (laptop ${r.laptopTime}), ${r.skewSeconds} s ${r.ok ? 'ok' : `— off by more than ${r.maxSkewSeconds} s: outpost clock set ${ref}`}` };
      }),
    );
  withLinkFlags(leaf(clock, 'set <device>', 'set the device clock from the laptop (and its RTC where it has one)')).action(
    runWith(io, async (ctx, ref: string, opts: LinkFlags) => {
      const [id] = await resolveDeviceIds(ctx, [ref], opts);
      const r = await ctx.api.invoke('pki:clock-set', { device: id as string, link: linkFrom(opts) });
      return { data: r, human: `${r.deviceName}: clock now ${r.deviceTime} (${r.skewSeconds} s from the laptop)` };
    }),
  );
}
