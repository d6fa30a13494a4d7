/** Versioned schema changes, applied in order and never edited once released: add a new one instead. */
export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'devices',
    up: `
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hostnames TEXT NOT NULL DEFAULT '[]',
        addresses TEXT NOT NULL DEFAULT '[]',
        macs TEXT NOT NULL DEFAULT '[]',
        sources TEXT NOT NULL DEFAULT '[]',
        services TEXT NOT NULL DEFAULT '[]',
        ssh TEXT NOT NULL DEFAULT '{"port":22,"user":"root"}',
        docker TEXT,
        serial_path TEXT,
        tags TEXT NOT NULL DEFAULT '{}',
        notes TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'unknown',
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
      );
      CREATE INDEX devices_name ON devices(name);
    `,
  },
];
