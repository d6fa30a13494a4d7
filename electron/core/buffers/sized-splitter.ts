import { OutpostError } from '../../../shared/errors';

/** What the batched transfer carries, one event at a time. */
export type SplitEvent = { type: 'start'; index: number } | { type: 'data'; index: number; chunk: Buffer } | { type: 'end'; index: number } | { type: 'trailer'; exitCode: number };

const TRAILER = /^\nOUTPOST-END (\d+)\n$/;

/**
 * Splits one `cat` of many files back into segments using the sizes the laptop measured beforehand, then checks the
 * trailer the device prints after `cat` (its exit status). Pure: bytes in, events out — every split of the stream
 * across chunks can be tested. A file that changed size after it was measured shifts every later boundary; the
 * per-segment checksums catch that (those segments are quarantined, never stored as good, never acknowledged).
 */
export class SizedSplitter {
  private index = 0;
  private offset = 0;
  private trailer = Buffer.alloc(0);
  private finished = false;

  constructor(private readonly sizes: readonly number[]) {}

  get done(): boolean {
    return this.finished;
  }

  push(chunk: Buffer): SplitEvent[] {
    const events: SplitEvent[] = [];
    let pos = 0;
    while (pos < chunk.length || (this.index < this.sizes.length && this.sizes[this.index] === 0)) {
      if (this.index >= this.sizes.length) {
        this.trailer = Buffer.concat([this.trailer, chunk.subarray(pos)]);
        if (this.trailer.length > 64) throw new OutpostError('protocol', 'transfer stream: more bytes than the segments measured');
        const m = TRAILER.exec(this.trailer.toString('latin1'));
        if (m) {
          this.finished = true;
          events.push({ type: 'trailer', exitCode: Number(m[1]) });
        }
        return events;
      }
      const size = this.sizes[this.index] ?? 0;
      if (this.offset === 0) events.push({ type: 'start', index: this.index });
      const take = Math.min(size - this.offset, chunk.length - pos);
      if (take > 0) events.push({ type: 'data', index: this.index, chunk: chunk.subarray(pos, pos + take) });
      pos += take;
      this.offset += take;
      if (this.offset === size) {
        events.push({ type: 'end', index: this.index });
        this.index++;
        this.offset = 0;
      }
    }
    return events;
  }
}
