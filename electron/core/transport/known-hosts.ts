import { OutpostError } from '../../../shared/errors';
import type { Db } from '../store/database';
import { keyTypeOf, sshFingerprint } from './fingerprint';

export interface PinnedKey {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  publicKey: string;
  pinnedAt: string;
}

export type HostKeyVerdict = { status: 'match' } | { status: 'unknown'; fingerprint: string } | { status: 'changed'; expected: string; actual: string };

/**
 * Trust on first use: the first key a host presents is pinned only on the technician's confirmation; a
 * different key later is a loud stop (`host-key-changed`) until it is explicitly re-pinned.
 */
export class KnownHosts {
  constructor(private readonly db: Db) {}

  get(host: string, port: number): PinnedKey | undefined {
    const row = this.db.prepare('SELECT host, port, key_type AS keyType, fingerprint, public_key AS publicKey, pinned_at AS pinnedAt FROM known_hosts WHERE host = ? AND port = ?').get(host, port) as
      | PinnedKey
      | undefined;
    return row;
  }

  list(): PinnedKey[] {
    return this.db.prepare('SELECT host, port, key_type AS keyType, fingerprint, public_key AS publicKey, pinned_at AS pinnedAt FROM known_hosts ORDER BY host, port').all() as PinnedKey[];
  }

  /** Keys pinned on this port for any of these names or addresses (one device's, as it moved between addresses). */
  pinnedForAny(hosts: readonly string[], port: number): PinnedKey[] {
    return hosts.map((h) => this.get(h, port)).filter((k): k is PinnedKey => k !== undefined);
  }

  check(host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
    const fingerprint = sshFingerprint(keyBlob);
    const pinned = this.get(host, port);
    if (!pinned) return { status: 'unknown', fingerprint };
    if (pinned.fingerprint === fingerprint) return { status: 'match' };
    return { status: 'changed', expected: pinned.fingerprint, actual: fingerprint };
  }

  pin(host: string, port: number, keyBlob: Buffer, now = new Date()): PinnedKey {
    const entry: PinnedKey = {
      host,
      port,
      keyType: keyTypeOf(keyBlob),
      fingerprint: sshFingerprint(keyBlob),
      publicKey: keyBlob.toString('base64'),
      pinnedAt: now.toISOString(),
    };
    this.db
      .prepare(
        `INSERT INTO known_hosts (host, port, key_type, fingerprint, public_key, pinned_at) VALUES (@host, @port, @keyType, @fingerprint, @publicKey, @pinnedAt)
         ON CONFLICT(host, port) DO UPDATE SET key_type=@keyType, fingerprint=@fingerprint, public_key=@publicKey, pinned_at=@pinnedAt`,
      )
      .run(entry);
    return entry;
  }

  forget(host: string, port: number): boolean {
    return this.db.prepare('DELETE FROM known_hosts WHERE host = ? AND port = ?').run(host, port).changes > 0;
  }
}

export function hostKeyError(host: string, port: number, verdict: Exclude<HostKeyVerdict, { status: 'match' }>): OutpostError {
  const target = port === 22 ? host : `${host}:${port}`;
  if (verdict.status === 'changed') {
    return new OutpostError(
      'host-key-changed',
      `HOST KEY CHANGED for ${target}: pinned ${verdict.expected}, now offered ${verdict.actual}. ` +
        'This may be a re-imaged device or someone in the middle. Connection refused; re-pin only after checking the device: ' +
        `outpost trust ${host} --fingerprint ${verdict.actual}`,
      { host, port, expected: verdict.expected, actual: verdict.actual },
    );
  }
  return new OutpostError(
    'host-key-unknown',
    `first connection to ${target}: its host key is ${verdict.fingerprint}. Check it on the device's console, then accept it with --yes or pin it with: outpost trust ${host} --fingerprint ${verdict.fingerprint}`,
    { host, port, fingerprint: verdict.fingerprint },
  );
}
