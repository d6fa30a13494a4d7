import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { basename, join } from 'node:path';

/** Inserts `[ISO time] ` at the start of every line of a byte stream (pure; keeps its place across chunks). */
export class LineStamper {
  private atLineStart = true;

  stamp(bytes: Uint8Array, now: Date): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (this.atLineStart) {
        parts.push(Buffer.from(bytes.subarray(from, i)), Buffer.from(`[${now.toISOString()}] `));
        from = i;
        this.atLineStart = false;
      }
      if (bytes[i] === 0x0a) this.atLineStart = true;
    }
    parts.push(Buffer.from(bytes.subarray(from)));
    return Buffer.concat(parts);
  }
}

/** A terminal session's log on the laptop: raw bytes from the device, each line stamped with the time it began. */
export class SessionLog {
  readonly file: string;
  private readonly out: WriteStream;
  private readonly stamper = new LineStamper();
  private written = 0;

  constructor(dir: string, portPath: string, now = new Date()) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, `${basename(portPath).replace(/[^A-Za-z0-9._-]/g, '_')}-${now.toISOString().replace(/[:.]/g, '-')}.log`);
    this.out = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
  }

  /** Received bytes (raw). */
  received(bytes: Uint8Array, now = new Date()): void {
    const b = this.stamper.stamp(bytes, now);
    this.written += b.length;
    this.out.write(b);
  }

  /** A line Outpost itself adds (port lost, reopened), on its own line. */
  note(text: string, now = new Date()): void {
    this.received(Buffer.from(`\n[outpost] ${text}\n`), now);
  }

  get bytes(): number {
    return this.written;
  }

  /** Resolves once everything written so far is on disk. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.out.write('', () => resolve()));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
