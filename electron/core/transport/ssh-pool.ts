import { SshConnection, type SshDeps, type SshTarget, type TrustPolicy } from './ssh-connection';

export function targetKey(t: SshTarget): string {
  return `${t.user}@${t.host}:${t.port}`;
}

/**
 * One persistent connection per device, shared by every service; a dropped connection is forgotten and the next
 * caller reconnects. Concurrent callers for the same device share one handshake.
 */
export class SshPool {
  private readonly connections = new Map<string, Promise<SshConnection>>();

  constructor(private readonly deps: SshDeps) {}

  get(target: SshTarget, trust: TrustPolicy = {}): Promise<SshConnection> {
    const key = targetKey(target);
    const existing = this.connections.get(key);
    if (existing) {
      return existing.then(
        (conn) => (conn.isOpen ? conn : this.connect(key, target, trust)),
        () => this.connect(key, target, trust),
      );
    }
    return this.connect(key, target, trust);
  }

  private connect(key: string, target: SshTarget, trust: TrustPolicy): Promise<SshConnection> {
    const pending = SshConnection.open(target, this.deps, trust);
    this.connections.set(key, pending);
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
