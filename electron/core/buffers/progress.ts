import type { EventBus } from '../router';

interface StreamProgress {
  bytesDone: number;
  bytesTotal: number;
}

/**
 * Per-device transfer progress, published as `flush:progress` at most every 250 ms per stream (and at the end).
 * `onChange` (the flush's job, summing its devices) hears every change; it throttles on its own.
 */
export class FlushProgress {
  private readonly streams = new Map<string, StreamProgress>();
  private readonly lastEmit = new Map<string, number>();
  private readonly started = Date.now();
  private bytesMoved = 0;

  constructor(
    private readonly bus: EventBus | undefined,
    private readonly deviceId: string,
    private readonly onChange?: () => void,
  ) {}

  addTotal(stream: string, bytes: number): void {
    const s = this.get(stream);
    s.bytesTotal += bytes;
    this.onChange?.();
  }

  /** `transferred` is false for bytes settled without moving them (duplicates acknowledged by checksum). */
  advance(stream: string, bytes: number, transferred = true): void {
    const s = this.get(stream);
    s.bytesDone += bytes;
    if (transferred) this.bytesMoved += bytes;
    this.onChange?.();
    const now = Date.now();
    if (now - (this.lastEmit.get(stream) ?? 0) >= 250) this.emit(stream, now);
  }

  /** True once `finish` ran. */
  finished = false;

  finish(): void {
    this.finished = true;
    for (const stream of this.streams.keys()) this.emit(stream, Date.now());
    this.onChange?.();
  }

  get totals(): { bytesDone: number; bytesTotal: number; rate: number } {
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const s of this.streams.values()) {
      bytesDone += s.bytesDone;
      bytesTotal += s.bytesTotal;
    }
    return { bytesDone, bytesTotal, rate: this.rate() };
  }

  private rate(): number {
    const seconds = (Date.now() - this.started) / 1000;
    return seconds > 0 ? this.bytesMoved / seconds : 0;
  }

  private emit(stream: string, now: number): void {
    this.lastEmit.set(stream, now);
    const s = this.get(stream);
    const rate = this.rate();
    const left = Math.max(0, s.bytesTotal - s.bytesDone);
    this.bus?.emit('flush:progress', {
      deviceId: this.deviceId,
      stream,
      bytesDone: s.bytesDone,
      bytesTotal: s.bytesTotal,
      rate,
      etaSeconds: left === 0 ? 0 : rate > 0 ? left / rate : null,
    });
  }

  private get(stream: string): StreamProgress {
    let s = this.streams.get(stream);
    if (!s) {
      s = { bytesDone: 0, bytesTotal: 0 };
      this.streams.set(stream, s);
    }
    return s;
  }
}

/**
 * The bytes of every device of one flush, summed for its job (the status bar's job list): a device's total grows as
 * its listing arrives, so the sum is what is known so far. Sums at most every 250 ms, and always at the end.
 */
export class JobFlushProgress {
  private readonly devices: FlushProgress[] = [];
  private last = 0;

  constructor(
    private readonly bus: EventBus | undefined,
    private readonly report: (done: number, total: number) => void,
  ) {}

  forDevice(deviceId: string): FlushProgress {
    const p = new FlushProgress(this.bus, deviceId, () => this.changed());
    this.devices.push(p);
    return p;
  }

  private changed(): void {
    const now = Date.now();
    const done = this.devices.every((d) => d.finished);
    if (!done && now - this.last < 250) return;
    this.last = now;
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const d of this.devices) {
      const t = d.totals;
      bytesDone += t.bytesDone;
      bytesTotal += t.bytesTotal;
    }
    this.report(bytesDone, bytesTotal);
  }
}
