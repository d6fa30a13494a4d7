import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { OutpostError } from '../../../shared/errors';
import type { ConsoleIo } from './console-driver';

export interface SerialSettings {
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 2;
  /** Hardware flow control (RTS/CTS). */
  rtscts: boolean;
  /** Software flow control (XON/XOFF). */
  xonxoff: boolean;
}

export const DEFAULT_SETTINGS: SerialSettings = { baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1, rtscts: false, xonxoff: false };

/** errno of an unplugged adapter: reads fail with EIO, a re-open before it returns with ENOENT/ENXIO/ENODEV. */
export const GONE_CODES = ['EIO', 'EBADF', 'ENXIO', 'ENODEV', 'ENOENT'];

function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') return e.code;
  const m = typeof e?.message === 'string' ? /\b(E[A-Z]{2,})\b/.exec(e.message) : null;
  if (m) return m[1];
  const text = typeof e?.message === 'string' ? e.message : '';
  if (/No such file/i.test(text)) return 'ENOENT';
  if (/Permission denied/i.test(text)) return 'EACCES';
  if (/Resource temporarily unavailable|Cannot lock/i.test(text)) return 'EBUSY';
  if (/Input\/output error/i.test(text)) return 'EIO';
  if (/bad file descriptor/i.test(text)) return 'EBADF';
  return undefined;
}

/** What a technician reads when a port cannot be opened or goes away. */
export function serialError(err: unknown, path: string, doing = 'open'): OutpostError {
  const code = errnoOf(err);
  const raw = (err as Error)?.message ?? String(err);
  if (code === 'ENOENT' || code === 'ENXIO' || code === 'ENODEV') return new OutpostError('not-found', `no serial port at ${path} (is the adapter plugged in?)`);
  // A pty whose far end hung up reads as EBADF through serialport; a USB adapter pulled mid-read as EIO.
  if (code === 'EIO' || (code === 'EBADF' && doing === 'read') || /bad file descriptor/i.test(raw)) return new OutpostError('unreachable', `the serial adapter at ${path} went away (unplugged?)`);
  if (code === 'EACCES' || code === 'EPERM') return new OutpostError('auth', `no permission to ${doing} ${path}: add your user to the dialout group (sudo usermod -aG dialout $USER) and log in again`);
  if (code === 'EBUSY' || code === 'EAGAIN') return new OutpostError('conflict', `${path} is in use by another program (minicom, screen, a getty?); close it first`);
  return new OutpostError('internal', `could not ${doing} ${path}: ${raw}`);
}

type Listener = { onData: (b: Buffer) => void; onEnd: (reason: string) => void };

/**
 * One open serial port shared by whoever needs its bytes (the terminal, an identify running over it): an exclusive
 * open (flock, like tio), stale input flushed on connect, received bytes fanned out to every subscriber.
 */
export class SerialLine implements ConsoleIo {
  private readonly listeners = new Set<Listener>();
  private closedReason: string | null = null;
  private closing = false;
  private vanished = false;
  private readonly watch: NodeJS.Timeout;
  private settingsNow: SerialSettings;

  private constructor(
    readonly path: string,
    private readonly port: SerialPort,
    settings: SerialSettings,
  ) {
    this.settingsNow = { ...settings };
    port.on('data', (b: Buffer) => {
      for (const l of [...this.listeners]) l.onData(b);
    });
    port.on('error', () => undefined);
    // A hung-up tty (a USB adapter pulled, a pty whose far end closed) reads 0 bytes forever, and serialport retries
    // such reads without end instead of reporting it: the path going away is the reliable sign (as tio waits on it).
    this.watch = setInterval(() => {
      if (!existsSync(path) && port.isOpen) {
        this.vanished = true;
        port.close(() => undefined);
      }
    }, 300);
    this.watch.unref();
    port.on('close', (err: Error | null) => {
      clearInterval(this.watch);
      // A close we did not ask for is the adapter going away, whatever errno (if any) the read loop saw.
      this.closedReason = this.closing && !this.vanished ? 'the port was closed' : err && serialError(err, path, 'read').kind !== 'internal' ? serialError(err, path, 'read').message : `the serial adapter at ${path} went away (unplugged?)`;
      for (const l of [...this.listeners]) l.onEnd(this.closedReason);
    });
  }

  static async open(path: string, settings: SerialSettings = DEFAULT_SETTINGS): Promise<SerialLine> {
    const port = new SerialPort({
      path,
      baudRate: settings.baudRate,
      dataBits: settings.dataBits,
      parity: settings.parity,
      stopBits: settings.stopBits,
      rtscts: settings.rtscts,
      xon: settings.xonxoff,
      xoff: settings.xonxoff,
      lock: true,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(serialError(err, path)) : resolve())));
    // Bytes that sat in the driver before we came are another session's: drop them (tio's tcflush on connect).
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    return new SerialLine(path, port, settings);
  }

  get label(): string {
    return `${this.path} at ${this.settingsNow.baudRate} baud`;
  }

  get settings(): SerialSettings {
    return { ...this.settingsNow };
  }

  get isOpen(): boolean {
    return this.closedReason === null;
  }

  write(bytes: Buffer): void {
    if (this.closedReason !== null) throw new OutpostError('unreachable', `${this.path} is closed: ${this.closedReason}`);
    this.port.write(bytes);
  }

  /** Resolves once the bytes written so far have left the laptop. */
  drain(): Promise<void> {
    return new Promise((resolve) => this.port.drain(() => resolve()));
  }

  subscribe(onData: (b: Buffer) => void, onEnd: (reason: string) => void): () => void {
    const l = { onData, onEnd };
    this.listeners.add(l);
    if (this.closedReason !== null) queueMicrotask(() => onEnd(this.closedReason ?? ''));
    return () => this.listeners.delete(l);
  }

  pause(): void {
    this.port.pause();
  }

  resume(): void {
    this.port.resume();
  }

  async setBaud(baudRate: number): Promise<void> {
    await new Promise<void>((resolve, reject) => this.port.update({ baudRate }, (err) => (err ? reject(serialError(err, this.path, 'set the speed of')) : resolve())));
    this.settingsNow.baudRate = baudRate;
  }

  /** Modem lines and BREAK. A pseudo-terminal (a console server's pty) has none: that is kind `unsupported`. */
  async signal(lines: { dtr?: boolean; rts?: boolean; brk?: boolean }): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.port.set(lines, (err) => {
        if (!err) return resolve();
        if (/Inappropriate ioctl|ENOTTY/i.test(err.message)) reject(new OutpostError('unsupported', `${this.path} has no modem control lines or BREAK (it is not a real UART)`));
        else reject(serialError(err, this.path, 'set the lines of'));
      }),
    );
  }

  async sendBreak(ms = 250): Promise<void> {
    await this.signal({ brk: true });
    await new Promise((r) => setTimeout(r, ms));
    await this.signal({ brk: false });
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    this.closing = true;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}
