import type { EventBus } from '../router';

interface StreamProgress {
  bytesDone: number;
  bytesTotal: number;
}

/** Per-device transfer progress, published as `flush:progress` at most every 250 ms per stream (and at the end). */
export class FlushProgress {
  private readonly streams = new Map<string, StreamProgress>();
  private readonly lastEmit = new Map<string, number>();
  private readonly started = Date.now();
  private bytesMoved = 0;

  constructor(
    private readonly bus: EventBus | undefined,
    private readonly deviceId: string,
  ) {}

  addTotal(stream: string, bytes: number): void {
    const s = this.get(stream);
    s.bytesTotal += bytes;
  }

  /** `transferred` is false for bytes settled without moving them (duplicates acknowledged by checksum). */
  advance(stream: string, bytes: number, transferred = true): void {
    const s = this.get(stream);
    s.bytesDone += bytes;
    if (transferred) this.bytesMoved += bytes;
    const now = Date.now();
    if (now - (this.lastEmit.get(stream) ?? 0) >= 250) this.emit(stream, now);
  }

  finish(): void {
    for (const stream of this.streams.keys()) this.emit(stream, Date.now());
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
