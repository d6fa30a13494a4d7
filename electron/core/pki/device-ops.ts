import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';

/**
 * What the PKI does on a device, each a constant POSIX-sh program run as `sh -c SCRIPT sh ARG...` over the
 * device's persistent SSH link: paths, subjects and modes travel as quoted argv words, never spliced into script text.
 */

/** The device's own store: the key is made here (mode 0600) and never read back by the laptop. */
export const DEVICE_PKI_DIR = '/etc/outpost/pki';
export const devicePkiDir = (profile: string): string => `${DEVICE_PKI_DIR}/${profile}`;

async function sh(ssh: SshConnection, script: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await ssh.run(['sh', '-c', script, 'sh', ...args], { input, maxBytes: 4 * 1024 * 1024 });
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

function failed(ssh: SshConnection, what: string, r: { code: number | null; stderr: string; stdout: string }): OutpostError {
  return new OutpostError('protocol', `${ssh.target.host}: ${what} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
}

/** The device clock as UTC seconds, bracketed by the laptop's clock to take out the round trip. */
export async function readDeviceClock(ssh: SshConnection): Promise<{ device: Date; laptop: Date }> {
  const before = Date.now();
  const r = await sh(ssh, 'date -u +%s', []);
  const after = Date.now();
  const seconds = Number(r.stdout.trim());
  if (r.code !== 0 || !Number.isFinite(seconds)) throw failed(ssh, 'reading the clock (date -u +%s)', r);
  return { device: new Date(seconds * 1000), laptop: new Date(Math.round((before + after) / 2)) };
}

/** Sets the device clock from the laptop (`date -u -s @EPOCH`), and the RTC too where the device has one. */
export async function setDeviceClock(ssh: SshConnection, to: Date): Promise<void> {
  const script = 'date -u -s "@$1" >/dev/null || exit $?; if command -v hwclock >/dev/null 2>&1; then hwclock -w -u >/dev/null 2>&1 || true; fi';
  const r = await sh(ssh, script, [String(Math.round(to.getTime() / 1000))]);
  if (r.code !== 0) throw new OutpostError('clock-skew', `${ssh.target.host}: could not set the clock (${(r.stderr || r.stdout).trim() || `exit ${r.code}`}); set it on the device, then try again`);
}

/** Whether the device's openssl runs (not merely whether a file of that name is on the PATH). */
export async function hasOpenssl(ssh: SshConnection): Promise<boolean> {
  const r = await sh(ssh, 'openssl version >/dev/null 2>&1', []);
  return r.code === 0;
}

const KEYGEN: Record<'ec-p256' | 'rsa-3072' | 'ed25519', string[]> = {
  'ec-p256': ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'rsa-3072': ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'],
  ed25519: ['-algorithm', 'ED25519'],
};

/**
 * Makes a new key on the device with its own openssl (umask 077: the file is 0600 from birth) next to the current
 * one, and prints a CSR for it. The current key stays in use until the certificate for the new one arrives.
 */
export async function generateKeyOnDevice(ssh: SshConnection, dir: string, commonName: string, algorithm: keyof typeof KEYGEN = 'ec-p256'): Promise<string> {
  const script = [
    'umask 077',
    'd=$1; cn=$2; shift 2',
    'mkdir -p "$d" && chmod 700 "$d" || exit 1',
    'rm -f "$d/key.pem.new"',
    'openssl genpkey "$@" -out "$d/key.pem.new" 2>&1 >/dev/null || exit 1',
    'chmod 600 "$d/key.pem.new"',
    // The subject is data: the laptop decides the certificate's subject anyway; this only labels the request.
    'openssl req -new -key "$d/key.pem.new" -subj "/CN=$cn" -batch 2>/dev/null',
  ].join('\n');
  const r = await sh(ssh, script, [dir, commonName.replace(/[/=+,\\]/g, '_'), ...KEYGEN[algorithm]]);
  if (r.code !== 0 || !r.stdout.includes('BEGIN CERTIFICATE REQUEST')) throw failed(ssh, 'making a key and CSR with openssl on the device', r);
  return r.stdout;
}

/** Puts a key the laptop made (the device has no openssl) where a device-made key would be, mode 0600. */
export async function sendKeyToDevice(ssh: SshConnection, dir: string, keyPem: string): Promise<void> {
  const script = 'umask 077; mkdir -p "$1" && chmod 700 "$1" && cat > "$1/key.pem.new" && chmod 600 "$1/key.pem.new"';
  const r = await sh(ssh, script, [dir], keyPem);
  if (r.code !== 0) throw failed(ssh, 'sending the key', r);
}

/** The certificate arrived: the new key and certificate replace the old pair in the device's store together. */
export async function storeOnDevice(ssh: SshConnection, dir: string, files: { certPem: string; caPem: string }): Promise<void> {
  const script = [
    'umask 022; d=$1',
    'IFS= read -r len || exit 1',
    'head -c "$len" > "$d/cert.pem.new" && cat > "$d/ca.pem.new" || exit 1',
    '[ -f "$d/key.pem.new" ] || { echo "the new key is gone from $d" >&2; exit 1; }',
    'chmod 644 "$d/cert.pem.new" "$d/ca.pem.new"',
    'mv -f "$d/key.pem.new" "$d/key.pem" && mv -f "$d/cert.pem.new" "$d/cert.pem" && mv -f "$d/ca.pem.new" "$d/ca.pem"',
  ].join('\n');
  const r = await sh(ssh, script, [dir], `${Buffer.byteLength(files.certPem)}\n${files.certPem}${files.caPem}`);
  if (r.code !== 0) throw failed(ssh, `storing the certificate in ${dir}`, r);
}

/** Drops a half-made key (the request was refused): the device is left as it was. */
export async function discardPendingKey(ssh: SshConnection, dir: string): Promise<void> {
  await sh(ssh, 'rm -f "$1/key.pem.new"', [dir]).catch(() => undefined);
}

export interface RemoteFile {
  path: string;
  /** Content from the laptop, or a file already on the device to copy (a key never travels back). */
  content?: string;
  copyFrom?: string;
  owner: string;
  mode: string;
}

/** sha256 of each path on the device (`-` when absent), to plan only the writes that change something. */
export async function hashRemote(ssh: SshConnection, paths: string[]): Promise<Map<string, string>> {
  const script = 'for p in "$@"; do if [ -f "$p" ]; then h=$(sha256sum < "$p" | cut -d" " -f1); else h=-; fi; printf "%s %s\\n" "$h" "$p"; done';
  const r = await sh(ssh, script, paths);
  if (r.code !== 0) throw failed(ssh, 'reading file checksums', r);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) out.set(line.slice(i + 1), line.slice(0, i));
  }
  return out;
}

/** A file's content, or null when it does not exist. */
export async function readRemote(ssh: SshConnection, path: string): Promise<string | null> {
  const r = await sh(ssh, 'if [ -e "$1" ]; then cat "$1"; else exit 3; fi', [path]);
  if (r.code === 3) return null;
  if (r.code !== 0) throw failed(ssh, `reading ${path}`, r);
  return r.stdout;
}

/**
 * Writes each file atomically (temp file, owner, mode, rename), first keeping whatever was there as
 * `<path>.outpost-prev` (or a `.outpost-absent` marker) so `restoreRemote` can put the device back as it was.
 */
export async function writeRemote(ssh: SshConnection, file: RemoteFile): Promise<void> {
  const script = [
    'p=$1; owner=$2; mode=$3; src=$4',
    'mkdir -p "$(dirname "$p")" || exit 1',
    'rm -f "$p.outpost-prev" "$p.outpost-absent"',
    'if [ -e "$p" ]; then cp -p "$p" "$p.outpost-prev" || exit 1; else : > "$p.outpost-absent"; fi',
    '(umask 077; if [ -n "$src" ]; then cat "$src"; else cat; fi) > "$p.outpost-new" || exit 1',
    'chown "$owner" "$p.outpost-new" && chmod "$mode" "$p.outpost-new" && mv -f "$p.outpost-new" "$p"',
  ].join('\n');
  const r = await sh(ssh, script, [file.path, file.owner, file.mode, file.copyFrom ?? ''], file.copyFrom ? '' : (file.content ?? ''));
  if (r.code !== 0) throw failed(ssh, `writing ${file.path}`, r);
}

/** Puts back what `writeRemote` replaced (or removes what it created). */
export async function restoreRemote(ssh: SshConnection, paths: string[]): Promise<void> {
  const script = 'for p in "$@"; do if [ -e "$p.outpost-prev" ]; then mv -f "$p.outpost-prev" "$p"; elif [ -e "$p.outpost-absent" ]; then rm -f "$p" "$p.outpost-absent"; fi; done';
  const r = await sh(ssh, script, paths);
  if (r.code !== 0) throw failed(ssh, 'restoring the previous files', r);
}

/** Forgets the backups once the new configuration is known good. */
export async function commitRemote(ssh: SshConnection, paths: string[]): Promise<void> {
  await sh(ssh, 'for p in "$@"; do rm -f "$p.outpost-prev" "$p.outpost-absent"; done', paths);
}

export async function runOnDevice(ssh: SshConnection, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await ssh.run(argv, { maxBytes: 1024 * 1024 });
  return { code: r.code, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
}

/**
 * Checks, on the device and under its own clock, what was stored: its openssl verifies the certificate against the
 * site CA (the CA is an anchor even when its root is not in the chain) and the key matches the certificate. A
 * device without openssl gets its certificate read back and compared. Returns how it was checked.
 */
export async function verifyOnDevice(ssh: SshConnection, dir: string, expectedCertPem: string): Promise<'openssl' | 'read-back'> {
  const script = [
    'd=$1',
    'if openssl version >/dev/null 2>&1; then',
    '  out=$(openssl verify -partial_chain -CAfile "$d/ca.pem" "$d/cert.pem" 2>&1) || { printf "%s\\n" "$out" >&2; exit 4; }',
    '  a=$(openssl x509 -in "$d/cert.pem" -noout -pubkey) && b=$(openssl pkey -in "$d/key.pem" -pubout) || exit 1',
    '  [ "$a" = "$b" ] || { echo "$d/key.pem does not belong to $d/cert.pem" >&2; exit 5; }',
    '  echo openssl',
    'else',
    '  echo read-back; cat "$d/cert.pem"',
    'fi',
  ].join('\n');
  const r = await sh(ssh, script, [dir]);
  if (r.code === 4 || r.code === 5) throw new OutpostError('integrity', `${ssh.target.host}: the device does not accept what was installed: ${r.stderr.trim().slice(0, 500)}`);
  if (r.code !== 0) throw failed(ssh, `verifying ${dir}`, r);
  if (r.stdout.startsWith('openssl')) return 'openssl';
  if (r.stdout.slice('read-back\n'.length).trim() !== expectedCertPem.trim()) throw new OutpostError('integrity', `${ssh.target.host}: ${dir}/cert.pem reads back different from the certificate just issued`);
  return 'read-back';
}
