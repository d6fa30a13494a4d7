import type { FilesTarget, InstallPlan, PlannedChange } from '../../../shared/contract/pki';
import { OutpostError } from '../../../shared/errors';
import type { SshConnection } from '../transport/ssh-connection';
import { applyServiceChange } from './apply-change';
import { hashRemote, type RemoteFile } from './device-ops';

export interface FilesPlan extends InstallPlan {
  files: RemoteFile[];
  reloadArgv: string[] | null;
}

export interface FilesPlanInput {
  deviceName: string;
  spec: FilesTarget;
  caPem: string;
  certPem: string;
  crlPem: string | null;
  keySource: string;
  hashes: Map<string, string>;
  sha256: (text: string) => string;
}

export function filesPaths(spec: FilesTarget, keySource: string): string[] {
  return [spec.certPath, spec.keyPath, ...(spec.caPath ? [spec.caPath] : []), ...(spec.crlPath ? [spec.crlPath] : []), keySource];
}

/**
 * The generic target: the certificate, the device's key (copied on the device), the CA chain and the CRL to the
 * paths given, with the owner and modes given; the reload command runs as argv over SSH (each word quoted for the
 * device's shell, never spliced into a script) only when something changed.
 */
export function planFiles(input: FilesPlanInput): FilesPlan {
  const { spec } = input;
  const paths = [spec.certPath, spec.keyPath, spec.caPath, spec.crlPath].filter((p): p is string => Boolean(p));
  if (new Set(paths).size !== paths.length) throw new OutpostError('invalid-input', 'two of the files go to the same path');
  if (paths.includes(input.keySource)) throw new OutpostError('invalid-input', `${input.keySource} is the device's own key store; choose other paths`);
  const mode = spec.keyMode.padStart(4, '0');
  const files: Array<RemoteFile & { what: string }> = [
    { path: spec.certPath, content: input.certPem, owner: spec.owner, mode: '0644', what: 'the certificate' },
    { path: spec.keyPath, copyFrom: input.keySource, owner: spec.owner, mode, what: `the device's key (copied on the device from ${input.keySource}; it never leaves the device)` },
  ];
  if (spec.caPath) files.push({ path: spec.caPath, content: input.caPem, owner: spec.owner, mode: '0644', what: 'the site CA certificate (+ chain)' });
  if (spec.crlPath) files.push({ path: spec.crlPath, content: input.crlPem ?? '', owner: spec.owner, mode: '0644', what: 'the CA’s revocation list (rewritten on every revoke)' });
  const toWrite = files.filter((f) => (input.hashes.get(f.path) ?? '-') !== (f.copyFrom ? (input.hashes.get(f.copyFrom) ?? '?') : input.sha256(f.content ?? '')));
  const changes: PlannedChange[] = files.map((f) => ({ action: toWrite.includes(f) ? 'write' : 'keep', path: f.path, owner: f.owner, mode: f.mode, detail: toWrite.includes(f) ? f.what : `unchanged: ${f.what}` }));
  const reloadArgv = toWrite.length && spec.reload?.length ? spec.reload : null;
  if (reloadArgv) changes.push({ action: 'run', detail: `reload: ${reloadArgv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}` });
  const notes = spec.reload?.length ? [] : ['no reload command: the service using these files picks them up when it next restarts'];
  return { target: 'files', deviceName: input.deviceName, changes, restart: reloadArgv ? reloadArgv.join(' ') : null, unchanged: toWrite.length === 0, notes, files: toWrite.map(({ what: _w, ...f }) => f), reloadArgv };
}

export function filesHashes(ssh: SshConnection, spec: FilesTarget, keySource: string): Promise<Map<string, string>> {
  return hashRemote(ssh, filesPaths(spec, keySource));
}

/** Writes, reloads; a reload that fails puts the previous files back, reloads again, and says why (kind `rolled-back`). */
export async function applyFilesPlan(ssh: SshConnection, plan: FilesPlan): Promise<void> {
  if (plan.unchanged) return;
  await applyServiceChange(ssh, {
    files: plan.files,
    restartArgv: plan.reloadArgv ?? null,
    timeoutMs: 0,
    failed: (why, back) =>
      new OutpostError('rolled-back', `${plan.deviceName}: the reload failed with the new files (${why}); the previous files were restored and the reload ${back ? 'ran again cleanly' : 'failed again'}`, { why }),
  });
}
