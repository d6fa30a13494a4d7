import type { Envelope } from '../../../shared/errors';

type Dispatch = (channel: string, args: unknown) => Promise<Envelope<unknown>>;

/**
 * The terminal sessions one client (a browser tab's WebSocket, an Electron window) opened, so that a client that
 * goes away without closing them — a closed tab, a reload, a crash — does not leave shells running on devices.
 */
export class OwnedSessions {
  private readonly open = new Set<string>();

  constructor(private readonly dispatchToCore: Dispatch) {}

  /** Dispatches a call, remembering sessions it opens and forgetting those it closes. */
  async dispatch(channel: string, args: unknown): Promise<Envelope<unknown>> {
    const envelope = await this.dispatchToCore(channel, args);
    if ('result' in envelope) {
      if (channel === 'sessions:open') {
        const id = (envelope.result as { sessionId?: unknown }).sessionId;
        if (typeof id === 'string') this.open.add(id);
      } else if (channel === 'sessions:close') {
        const id = (args as { sessionId?: unknown } | null)?.sessionId;
        if (typeof id === 'string') this.open.delete(id);
      }
    }
    return envelope;
  }

  /** Closes every session this client left open; sessions that already ended are simply gone. */
  async closeAll(): Promise<void> {
    const ids = [...this.open];
    this.open.clear();
    await Promise.all(ids.map((sessionId) => this.dispatchToCore('sessions:close', { sessionId })));
  }

  get size(): number {
    return this.open.size;
  }
}
