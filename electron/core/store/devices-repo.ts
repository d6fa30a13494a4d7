import { randomUUID } from 'node:crypto';
import { blankDevice, Device, type DeviceAdd, type DeviceUpdate } from '../../../shared/contract/devices';
import { OutpostError } from '../../../shared/errors';
import type { Db } from './database';

interface Row {
  id: string;
  name: string;
  hostnames: string;
  addresses: string;
  macs: string;
  sources: string;
  services: string;
  ssh: string;
  docker: string | null;
  serial_path: string | null;
  tags: string;
  notes: string;
  state: string;
  first_seen: string;
  last_seen: string;
}

function fromRow(r: Row): Device {
  return Device.parse({
    id: r.id,
    name: r.name,
    hostnames: JSON.parse(r.hostnames),
    addresses: JSON.parse(r.addresses),
    macs: JSON.parse(r.macs),
    sources: JSON.parse(r.sources),
    services: JSON.parse(r.services),
    ssh: JSON.parse(r.ssh),
    docker: r.docker ? JSON.parse(r.docker) : null,
    serialPath: r.serial_path,
    tags: JSON.parse(r.tags),
    notes: r.notes,
    state: r.state,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  });
}

/** Marks the records that share an SSH host key with another (clones of one image), naming each other. */
export function markSharedHostKeys(devices: Device[], all: readonly Device[] = devices): Device[] {
  const byKey = new Map<string, string[]>();
  for (const d of all) {
    const fp = d.ssh.hostKeyFingerprint;
    if (fp) byKey.set(fp, [...(byKey.get(fp) ?? []), d.id]);
  }
  return devices.map((d) => {
    const { sharedHostKeyWith: _stale, ...ssh } = d.ssh;
    const others = (d.ssh.hostKeyFingerprint ? byKey.get(d.ssh.hostKeyFingerprint) ?? [] : []).filter((id) => id !== d.id);
    return { ...d, ssh: others.length ? { ...ssh, sharedHostKeyWith: others } : ssh };
  });
}

function toRow(d: Device): Row {
  const { sharedHostKeyWith: _derived, ...ssh } = d.ssh;
  d = { ...d, ssh };
  return {
    id: d.id,
    name: d.name,
    hostnames: JSON.stringify(d.hostnames),
    addresses: JSON.stringify(d.addresses),
    macs: JSON.stringify(d.macs),
    sources: JSON.stringify(d.sources),
    services: JSON.stringify(d.services),
    ssh: JSON.stringify(d.ssh),
    docker: d.docker ? JSON.stringify(d.docker) : null,
    serial_path: d.serialPath,
    tags: JSON.stringify(d.tags),
    notes: d.notes,
    state: d.state,
    first_seen: d.firstSeen,
    last_seen: d.lastSeen,
  };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The device inventory: one row per physical device, whatever saw it (manual, mDNS, sweep, serial). */
export class DevicesRepo {
  constructor(private readonly db: Db) {}

  list(query?: string): Device[] {
    const rows = this.db.prepare('SELECT * FROM devices ORDER BY name COLLATE NOCASE, id').all() as Row[];
    const devices = markSharedHostKeys(rows.map(fromRow));
    if (!query) return devices;
    const q = query.toLowerCase();
    return devices.filter((d) =>
      [d.name, d.notes, ...d.hostnames, ...d.addresses, ...d.macs, ...Object.values(d.tags)].some((v) => v.toLowerCase().includes(q)),
    );
  }

  get(id: string): Device {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new OutpostError('not-found', `no device with id ${id}`);
    return this.withShared(fromRow(row));
  }

  private withShared(device: Device): Device {
    const fp = device.ssh.hostKeyFingerprint;
    if (!fp) return markSharedHostKeys([device])[0] as Device;
    const rows = this.db.prepare("SELECT * FROM devices WHERE json_extract(ssh, '$.hostKeyFingerprint') = ?").all(fp) as Row[];
    return markSharedHostKeys([device], [device, ...rows.map(fromRow).filter((d) => d.id !== device.id)])[0] as Device;
  }

  /** Finds a device by id, name, hostname or address, the way every `<device>` argument is resolved. */
  find(ref: string): Device | undefined {
    const byId = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(ref) as Row | undefined;
    if (byId) return this.withShared(fromRow(byId));
    const all = this.list();
    const r = ref.toLowerCase();
    return (
      all.find((d) => d.name.toLowerCase() === r) ??
      all.find((d) => d.hostnames.some((h) => h.toLowerCase() === r)) ??
      all.find((d) => d.addresses.includes(ref)) ??
      all.find((d) => d.serialPath === ref)
    );
  }

  add(input: DeviceAdd, now = new Date()): Device {
    const ts = now.toISOString();
    const host = input.host;
    const isAddress = host !== undefined && (IPV4.test(host) || host.includes(':'));
    const device = Device.parse(
      blankDevice(randomUUID(), ts, {
        name: input.name ?? host ?? input.serialPath ?? 'device',
        hostnames: host && !isAddress ? [host] : [],
        addresses: host && isAddress ? [host] : [],
        sources: [input.serialPath && !host ? 'serial' : 'manual'],
        // Only what was given is the device's own; the rest comes from the site's defaults when it dials.
        ssh: {
          ...(input.sshPort !== undefined ? { port: input.sshPort } : {}),
          ...(input.sshUser !== undefined ? { user: input.sshUser } : {}),
          ...(input.sshIdentityFile ? { identityFile: input.sshIdentityFile } : {}),
        },
        serialPath: input.serialPath ?? null,
        tags: input.tags ?? {},
        notes: input.notes ?? '',
      }),
    );
    this.save(device);
    return device;
  }

  update(input: DeviceUpdate): Device {
    const current = this.get(input.id);
    const next: Device = {
      ...current,
      name: input.name ?? current.name,
      tags: input.tags ?? current.tags,
      notes: input.notes ?? current.notes,
      addresses: input.addresses ?? current.addresses,
      ssh: { ...current.ssh },
    };
    // A value sets the device's own, null goes back to the site's default (else root / 22), left out keeps it.
    if (input.sshPort === null) delete next.ssh.port;
    else if (input.sshPort !== undefined) next.ssh.port = input.sshPort;
    if (input.sshUser === null) delete next.ssh.user;
    else if (input.sshUser !== undefined) next.ssh.user = input.sshUser;
    if (input.sshIdentityFile === null) delete next.ssh.identityFile;
    else if (input.sshIdentityFile !== undefined) next.ssh.identityFile = input.sshIdentityFile;
    if (input.engineSocket !== undefined) {
      const { socket: _old, ...docker } = current.docker ?? {};
      next.docker = input.engineSocket === null ? (Object.keys(docker).length ? docker : null) : { ...docker, socket: input.engineSocket };
    }
    this.save(next);
    return next;
  }

  /** Inserts or replaces a whole record (discovery merges use this). */
  save(device: Device): void {
    const row = toRow(Device.parse(device));
    this.db
      .prepare(
        `INSERT INTO devices (id, name, hostnames, addresses, macs, sources, services, ssh, docker, serial_path, tags, notes, state, first_seen, last_seen)
         VALUES (@id, @name, @hostnames, @addresses, @macs, @sources, @services, @ssh, @docker, @serial_path, @tags, @notes, @state, @first_seen, @last_seen)
         ON CONFLICT(id) DO UPDATE SET name=@name, hostnames=@hostnames, addresses=@addresses, macs=@macs, sources=@sources,
           services=@services, ssh=@ssh, docker=@docker, serial_path=@serial_path, tags=@tags, notes=@notes, state=@state,
           first_seen=@first_seen, last_seen=@last_seen`,
      )
      .run(row);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM devices WHERE id = ?').run(id).changes > 0;
  }
}
