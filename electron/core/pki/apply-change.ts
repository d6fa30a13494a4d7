import type { SshConnection } from '../transport/ssh-connection';
import { commitRemote, restoreRemote, runOnDevice, writeRemote, type RemoteFile } from './device-ops';

/**
 * One install on a device as a transaction, shared by every target (Docker daemon TLS, the MQTT listener, plain
 * files): write the files (each keeps its previous version beside it), run the restart or reload, wait until the
 * service accepts the new state; then drop the previous versions. If it does not, the previous files go back, the
 * restart runs again, and `failed` builds the error from why it failed and whether the service is back as before.
 */
export interface ServiceChange {
  files: RemoteFile[];
  /** The restart (or reload) through the device's service manager; a non-zero exit is a failure. */
  restartArgv: string[] | null;
  /** The new state is accepted (e.g. an mTLS handshake); absent: the restart's exit 0 is enough. */
  healthy?: () => Promise<boolean>;
  /** The service's process is alive: one gone for 3 s will not come back by waiting, so the wait stops early. */
  running?: () => Promise<boolean>;
  /** After the rollback: the service answers as before; absent: the restart's exit 0. */
  backAsBefore?: () => Promise<boolean>;
  /** The service's own words on why it failed (its log), added to the reason. */
  failureReason?: () => Promise<string>;
  timeoutMs: number;
  backTimeoutMs?: number;
  pollMs?: number;
  failed(why: string, back: boolean): Error;
}

/** Polls `ok` until it holds, the deadline passes, or `running` says the process has been gone for 3 s. */
export async function waitAccepted(ok: () => Promise<boolean>, opts: { running?: () => Promise<boolean>; timeoutMs: number; pollMs?: number }): Promise<boolean> {
  const deadline = Date.now() + opts.timeoutMs;
  let goneSince: number | null = null;
  while (Date.now() < deadline) {
    if (await ok().catch(() => false)) return true;
    if (opts.running && !(await opts.running().catch(() => false))) {
      goneSince ??= Date.now();
      if (Date.now() - goneSince > 3_000) return false;
    } else goneSince = null;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
  return false;
}

/** `pidof <name>` on the device: the service's process exists. */
export async function processRunning(ssh: SshConnection, name: string): Promise<boolean> {
  const r = await runOnDevice(ssh, ['pidof', name]).catch(() => ({ code: 1 }));
  return r.code === 0;
}

export async function applyServiceChange(ssh: SshConnection, change: ServiceChange): Promise<void> {
  const paths = change.files.map((f) => f.path);
  try {
    for (const f of change.files) await writeRemote(ssh, f);
  } catch (err) {
    await restoreRemote(ssh, paths).catch(() => undefined);
    throw err;
  }
  const restart = change.restartArgv;
  const r = restart ? await runOnDevice(ssh, restart) : { code: 0, stdout: '', stderr: '' };
  const up = r.code === 0 && (!change.healthy || (await waitAccepted(change.healthy, change)));
  if (up) {
    await commitRemote(ssh, paths);
    return;
  }
  const reason = change.failureReason ? await change.failureReason().catch(() => 'no log found') : '';
  const exited = r.code !== 0 && restart ? `${restart.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(0, 300)}` : '';
  const why = [exited, reason].filter(Boolean).join(' — ') || 'no reason found';
  await restoreRemote(ssh, paths);
  const again = restart ? await runOnDevice(ssh, restart).catch(() => ({ code: 1 })) : { code: 0 };
  const back = change.backAsBefore ? await waitAccepted(change.backAsBefore, { ...change, timeoutMs: change.backTimeoutMs ?? change.timeoutMs }) : again.code === 0;
  throw change.failed(why, back);
}
