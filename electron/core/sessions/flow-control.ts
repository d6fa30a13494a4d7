/**
 * Acknowledgement-based back-pressure between a byte source and a consumer that is not on the same event loop
 * (the renderer, the CLI). The producer counts what it sent, the consumer acknowledges what it has consumed;
 * past `windowBytes` unacknowledged the source is paused, and it resumes once the consumer has caught up to
 * half the window (a gap, so a consumer acking every chunk does not toggle the source on every chunk).
 */
export class FlowControl {
  private unacked = 0;
  private pausedNow = false;

  constructor(readonly windowBytes: number) {
    if (!(windowBytes > 0)) throw new RangeError('windowBytes must be positive');
  }

  get unacknowledged(): number {
    return this.unacked;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  /** Counts bytes handed to the consumer; true when the source must pause now. */
  produced(bytes: number): boolean {
    this.unacked += bytes;
    if (!this.pausedNow && this.unacked > this.windowBytes) {
      this.pausedNow = true;
      return true;
    }
    return false;
  }

  /** Counts bytes the consumer says it consumed (never more than were sent); true when the source may resume now. */
  acknowledged(bytes: number): boolean {
    this.unacked = Math.max(0, this.unacked - bytes);
    if (this.pausedNow && this.unacked <= this.windowBytes / 2) {
      this.pausedNow = false;
      return true;
    }
    return false;
  }
}
