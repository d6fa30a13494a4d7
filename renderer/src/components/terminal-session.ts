import type { Api, SessionTarget } from '../../../shared/contract';

type Target = SessionTarget extends infer T ? (T extends unknown ? Omit<T, 'cols' | 'rows'> : never) : never;
export type TerminalTarget = Target;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function base64ToBytes(data: string): Uint8Array {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export interface TerminalSink {
  /** Renders bytes and calls `done` once they are consumed (xterm's write callback), which acknowledges them. */
  write(bytes: Uint8Array, done: () => void): void;
  exited(code: number | null, error?: { kind: string; message: string }): void;
}

/**
 * The renderer end of a `sessions:*` byte stream: opens it, forwards keystrokes and resizes, and acknowledges
 * output only once the sink has consumed it, so the core pauses the device side when the terminal falls behind.
 * Events that arrive before `sessions:open` has answered are held until the sessionId is known.
 */
export class TerminalSession {
  sessionId: string | null = null;
  private early: Array<{ sessionId: string; data: string }> = [];
  private pendingAck = 0;
  private ackInFlight = false;
  private closed = false;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly api: Api,
    private readonly sink: TerminalSink,
  ) {}

  async open(target: TerminalTarget, size: { cols: number; rows: number }): Promise<string> {
    this.unsubscribe.push(
      this.api.on('sessions:data', (e) => {
        if (this.sessionId === null) this.early.push(e);
        else if (e.sessionId === this.sessionId) this.receive(e.data);
      }),
      this.api.on('sessions:exit', (e) => {
        if (e.sessionId === this.sessionId) this.sink.exited(e.code, e.error);
      }),
    );
    const { sessionId } = await this.api.invoke('sessions:open', { ...target, ...size } as SessionTarget);
    this.sessionId = sessionId;
    for (const e of this.early.splice(0)) if (e.sessionId === sessionId) this.receive(e.data);
    if (this.closed) void this.close();
    return sessionId;
  }

  private receive(data: string): void {
    const bytes = base64ToBytes(data);
    this.sink.write(bytes, () => this.consumed(bytes.length));
  }

  private consumed(n: number): void {
    this.pendingAck += n;
    void this.flushAck();
  }

  /** One ack in flight at a time; whatever was consumed meanwhile goes in the next one. */
  private async flushAck(): Promise<void> {
    if (this.ackInFlight || this.pendingAck === 0 || !this.sessionId || this.closed) return;
    const bytes = this.pendingAck;
    this.pendingAck = 0;
    this.ackInFlight = true;
    try {
      await this.api.invoke('sessions:ack', { sessionId: this.sessionId, bytes });
    } catch {
      // The session ended under us; its exit event tells the user.
    } finally {
      this.ackInFlight = false;
    }
    void this.flushAck();
  }

  input(text: string): Promise<unknown> | undefined {
    if (!this.sessionId || this.closed) return undefined;
    return this.api.invoke('sessions:write', { sessionId: this.sessionId, data: bytesToBase64(this.encoder.encode(text)) });
  }

  resize(cols: number, rows: number): Promise<unknown> | undefined {
    if (!this.sessionId || this.closed) return undefined;
    return this.api.invoke('sessions:resize', { sessionId: this.sessionId, cols, rows });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.sessionId) await this.api.invoke('sessions:close', { sessionId: this.sessionId }).catch(() => undefined);
  }
}
