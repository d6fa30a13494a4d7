import { OutpostError } from '../../../shared/errors';
import type { ExecHandle, SshConnection } from '../transport/ssh-connection';
import { ACK_SERVER, shArgv } from './remote-scripts';

/** Names per batch: keeps each `rm` well below any device's ARG_MAX and the shell's argument rebuilding cheap. */
const BATCH = 400;

/**
 * The device side of "the laptop holds these durably": one long-lived exec (ACK_SERVER) that applies batches of
 * validated relative paths and answers `ok` per batch. Opening it beside the listing keeps exec set-up (~100 ms in
 * the lab) off the critical path, and the last batch of a flush costs one round trip instead of one exec.
 */
export class AckChannel {
  private out = '';
  private err = '';
  private readonly waiting: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private broken: Error | null = null;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly handle: ExecHandle,
    private readonly what: string,
    private readonly stallMs: number,
  ) {
    handle.stdout.on('data', (c: Buffer) => {
      this.out += c.toString('utf8');
      for (let nl = this.out.indexOf('\n'); nl >= 0; nl = this.out.indexOf('\n')) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        if (line === 'ok') this.waiting.shift()?.resolve();
        else this.fail(new OutpostError('protocol', `${what} failed on the device: ${this.err.trim().slice(0, 300) || line}`));
      }
    });
    handle.stderr.on('data', (c: Buffer) => {
      if (this.err.length < 4096) this.err += c.toString('utf8');
    });
    void handle.exit.then(({ code }) => this.fail(new OutpostError(code === null ? 'unreachable' : 'protocol', `${what}: the device closed the acknowledgement channel (exit ${String(code)}) ${this.err.trim().slice(0, 300)}`)));
  }

  static async open(conn: SshConnection, root: string, mode: 'delete' | 'move', stallMs: number): Promise<AckChannel> {
    const handle = await conn.exec(shArgv(ACK_SERVER, 'outpost-ack', [root, mode]));
    return new AckChannel(handle, `acknowledging segments in ${root}`, stallMs);
  }

  /** Applies `rels` on the device (in batches, in order); resolves once the device confirmed every batch. */
  ack(rels: readonly string[]): Promise<void> {
    const run = this.queue.then(async () => {
      for (let i = 0; i < rels.length; i += BATCH) await this.batch(rels.slice(i, i + BATCH));
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the channel: the device script exits after the last complete batch. */
  async close(): Promise<void> {
    await this.queue;
    this.handle.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.handle.exit, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.stallMs)))]);
    clearTimeout(timer);
    this.handle.channel.close();
  }

  private batch(rels: string[]): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new OutpostError('unreachable', `${this.what}: the device did not confirm within ${Math.round(this.stallMs / 1000)} s (link down?)`)), this.stallMs);
      this.waiting.push({
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      // One write per batch: the device applies it only once it has read the closing `.` line.
      this.handle.stdin.write(`${rels.map((r) => `${r}\n`).join('')}.\n`);
    });
  }

  private fail(err: Error): void {
    this.broken ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.broken);
  }
}
