import { SshConnection, type SshDeps, type SshTarget, type TrustPolicy } from './ssh-connection';

export function targetKey(t: SshTarget): string {
  return `${t.user}@${t.host}:${t.port}`;
}

interface Dial {
  target: SshTarget;
  trust: TrustPolicy;
}

/** Two dials that would end the same way: the same credentials offered, the same host keys accepted. */
const sameDial = (a: Dial, b: Dial): boolean =>
  a.target.identityFile === b.target.identityFile &&
  a.target.password === b.target.password &&
  Boolean(a.trust.acceptNew) === Boolean(b.trust.acceptNew) &&
  a.trust.expectedFingerprint === b.trust.expectedFingerprint &&
  [...(a.trust.knownForDevice ?? [])].sort().join() === [...(b.trust.knownForDevice ?? [])].sort().join();

/**
 * One persistent connection per device, shared by every service; a dropped connection is forgotten and the next
 * caller reconnects. Concurrent callers for the same device share one handshake.
 */
export class SshPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();
  /** Dials still in progress, with what they were started with. */
  private readonly dialing = new Map<Promise<SshConnection>, Dial>();

  constructor(private readonly deps: SshDeps) {}

  /**
   * The device's pooled connection. `chooseCipher` is for a device whose cipher is not chosen yet: it reads what it
   * needs over the first connection and names a cipher; if the one negotiated differs, that connection is replaced
   * by one with the chosen cipher before any caller sees it (once per device: the choice is stored by the caller).
   */
  get(target: SshTarget, trust: TrustPolicy = {}, chooseCipher?: (conn: SshConnection) => Promise<string | undefined>): Promise<SshConnection> {
    const key = targetKey(target);
    const existing = this.connections.get(key);
    const pending = existing && this.dialing.get(existing);
    if (existing && pending && sameDial(pending, { target, trust })) {
      // The same dial in progress (e.g. started ahead by the CLI while it loads the service): its outcome is this
      // caller's too, failures included — dialling again would only wait out the same timeout twice.
      return existing.then((conn) => (conn.isOpen ? conn : this.connect(key, target, trust, chooseCipher)));
    }
    if (existing) {
      return existing.then(
        (conn) => (conn.isOpen ? conn : this.connect(key, target, trust, chooseCipher)),
        () => this.connect(key, target, trust, chooseCipher),
      );
    }
    return this.connect(key, target, trust, chooseCipher);
  }

  private connect(key: string, target: SshTarget, trust: TrustPolicy, chooseCipher?: (conn: SshConnection) => Promise<string | undefined>): Promise<SshConnection> {
    const pending = SshConnection.open(target, this.deps, trust).then(async (first) => {
      if (!chooseCipher) return first;
      const cipher = await chooseCipher(first).catch(() => undefined);
      if (!cipher || cipher === first.cipher) return first;
      first.close();
      // The host key was pinned by the first handshake (or matched already): the same trust holds.
      return SshConnection.open({ ...target, cipher }, this.deps, trust);
    });
    this.connections.set(key, pending);
    this.dialing.set(pending, { target, trust });
    const settled = () => this.dialing.delete(pending);
    pending.then(settled, settled);
    pending.then(
      (conn) => conn.onClose(() => {
        if (this.connections.get(key) === pending) this.connections.delete(key);
      }),
      () => {
        if (this.connections.get(key) === pending) this.connections.delete(key);
      },
    );
    return pending;
  }

  /** Drops a device's connection, e.g. after its host key was re-pinned. */
  drop(target: SshTarget): void {
    const key = targetKey(target);
    const pending = this.connections.get(key);
    this.connections.delete(key);
    void pending?.then((c) => c.close(), () => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close(), () => undefined)));
  }
}
