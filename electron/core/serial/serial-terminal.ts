import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { toErrorBody } from '../../../shared/errors';
import type { ByteSource } from '../sessions/byte-source';
import { localEchoOf, mapInput, mapOutput, type LineMap } from './line-map';
import { SerialLine, type SerialSettings } from './serial-line';
import type { SessionLog } from './session-log';

export type PortState = 'waiting' | 'open' | 'lost' | 'closed';

export interface SerialTerminalOptions {
  path: string;
  settings: SerialSettings;
  map: LineMap;
  log: SessionLog;
  onState: (state: PortState, message: string) => void;
  /** How often a lost port is looked for (ms). */
  pollMs?: number;
  /** Hook for whoever shares the line (identify on an open terminal). */
  onLine?: (line: SerialLine | null) => void;
}

/**
 * A serial console as a session byte source: the same shape as an SSH shell, plus reconnect as states (tio's
 * `waiting → open → lost` loop): a read error means the adapter was pulled; the session stays, says so on screen,
 * and reopens the same path with the same settings when it comes back.
 */
export class SerialTerminal implements ByteSource {
  readonly name: string;
  readonly output = new PassThrough();
  readonly exit: Promise<number | null>;
  private resolveExit!: (code: number | null) => void;
  private line: SerialLine | null = null;
  private offLine: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private killed = false;
  private stateNow: PortState = 'waiting';
  private lastWaitMessage = '';
  map: LineMap;
  settings: SerialSettings;

  constructor(private readonly opts: SerialTerminalOptions) {
    this.name = opts.path;
    this.map = { ...opts.map };
    this.settings = { ...opts.settings };
    this.exit = new Promise((resolve) => (this.resolveExit = resolve));
    // The consumer paused us (back-pressure): stop reading the port too, so the UART's own flow control can act.
    this.output.on('pause', () => this.line?.pause());
    this.output.on('resume', () => this.line?.resume());
  }

  get log(): SessionLog {
    return this.opts.log;
  }

  get state(): PortState {
    return this.stateNow;
  }

  get currentLine(): SerialLine | null {
    return this.line;
  }

  /** First open: a missing port is an error for the caller (a typo must not wait forever). */
  async start(): Promise<void> {
    this.attach(await SerialLine.open(this.opts.path, this.settings));
  }

  private setState(state: PortState, message: string): void {
    this.stateNow = state;
    this.opts.onState(state, message);
  }

  private notice(text: string): void {
    this.opts.log.note(text);
    if (!this.killed) this.output.write(Buffer.from(`\r\n\x1b[33m[outpost] ${text}\x1b[0m\r\n`));
  }

  private attach(line: SerialLine): void {
    this.line = line;
    this.opts.onLine?.(line);
    this.offLine = line.subscribe(
      (bytes) => {
        this.opts.log.received(bytes);
        this.output.write(mapInput(bytes, this.map));
      },
      (reason) => this.lost(reason),
    );
    if (this.output.isPaused()) line.pause();
    this.setState('open', `${line.label} open`);
  }

  private lost(reason: string): void {
    this.offLine?.();
    this.offLine = null;
    this.line = null;
    this.opts.onLine?.(null);
    if (this.killed) return;
    this.setState('lost', reason);
    this.notice(`${reason} — waiting for ${this.opts.path} to return (close the tab to stop)`);
    this.schedule();
  }

  private schedule(): void {
    if (this.killed) return;
    this.timer = setTimeout(() => void this.tryReopen(), this.opts.pollMs ?? 300);
  }

  private async tryReopen(): Promise<void> {
    this.timer = null;
    if (this.killed) return;
    if (!existsSync(this.opts.path)) return this.schedule();
    try {
      const line = await SerialLine.open(this.opts.path, this.settings);
      if (this.killed) {
        await line.close();
        return;
      }
      this.attach(line);
      this.notice(`${line.label} is back`);
    } catch (err) {
      const message = toErrorBody(err).message;
      // Warn once per reason, as tio does: a port that keeps failing the same way must not flood the screen.
      if (message !== this.lastWaitMessage) {
        this.lastWaitMessage = message;
        this.setState('waiting', message);
      }
      this.schedule();
    }
  }

  write(data: Buffer): void {
    if (this.map.localEcho) this.output.write(localEchoOf(data));
    const line = this.line;
    // Typing into a pulled adapter goes nowhere; the screen already says so.
    if (line?.isOpen) line.write(mapOutput(data, this.map));
  }

  async resize(): Promise<void> {
    // A UART carries no window size; the device keeps its own `stty cols`.
  }

  async reconfigure(settings: Partial<SerialSettings>, map?: LineMap): Promise<void> {
    if (map) this.map = { ...map };
    const changedFraming = (['dataBits', 'parity', 'stopBits', 'rtscts', 'xonxoff'] as const).some((k) => settings[k] !== undefined && settings[k] !== this.settings[k]);
    this.settings = { ...this.settings, ...settings };
    const line = this.line;
    if (!line) return;
    if (changedFraming) {
      // serialport changes only the speed in place; framing needs a reopen.
      this.offLine?.();
      await line.close();
      this.attach(await SerialLine.open(this.opts.path, this.settings));
    } else if (settings.baudRate !== undefined && settings.baudRate !== line.settings.baudRate) {
      await line.setBaud(settings.baudRate);
      this.notice(`now at ${settings.baudRate} baud`);
    }
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    if (this.timer) clearTimeout(this.timer);
    this.offLine?.();
    const line = this.line;
    this.line = null;
    this.opts.onLine?.(null);
    void (async () => {
      await line?.close();
      await this.opts.log.close();
      this.setState('closed', `${this.opts.path} closed`);
      this.output.end();
      this.resolveExit(0);
    })();
  }
}
