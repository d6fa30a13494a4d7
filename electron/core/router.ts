import type { ArgsOf, ChannelName, EventName, ParsedArgsOf, PayloadOf, ResultOf } from '../../shared/contract';
import { OutpostError, toErrorBody, type Envelope } from '../../shared/errors';
import { ContractSchemas } from './contract-schemas';

/** Schemas are immutable: one lazily filled cache serves every router and bus in the process. */
const schemas = new ContractSchemas();

export type Handler<C extends ChannelName> = (args: ParsedArgsOf<C>) => Promise<ResultOf<C>> | ResultOf<C>;

/**
 * The one place requests enter the core, whatever transport carried them: validates the arguments with the
 * contract's zod schema, runs the service's handler and always answers with an envelope.
 */
export class Router {
  private readonly handlers = new Map<ChannelName, (args: unknown) => Promise<unknown>>();
  /** Services not built yet, by the channel areas (`'<area>:<verb>'`) they serve. */
  private readonly lazyAreas = new Map<string, () => Promise<void>>();
  private readonly loaders: Array<() => Promise<void>> = [];

  /**
   * A service built on the first request to one of its areas: `load` imports the service's module and registers
   * its handlers. Commands that never touch an area never load its code (a CLI run answers one command).
   */
  lazy(areas: string[], load: () => Promise<void>): () => Promise<void> {
    let pending: Promise<void> | undefined;
    const once = (): Promise<void> =>
      // Its areas' schemas first, so the service's events validate synchronously.
      (pending ??= schemas.preload(areas).then(load).catch((err: unknown) => {
        pending = undefined;
        throw err;
      }));
    for (const area of areas) {
      if (this.lazyAreas.has(area)) throw new Error(`area ${area} registered twice`);
      this.lazyAreas.set(area, once);
    }
    this.loaders.push(once);
    return once;
  }

  /** Builds every lazy service now (the app and browser mode do it once they serve, so background work starts). */
  async loadAll(): Promise<void> {
    await Promise.all(this.loaders.map((load) => load()));
  }

  handle<C extends ChannelName>(channel: C, handler: Handler<C>): void {
    if (this.handlers.has(channel)) throw new Error(`handler for ${channel} registered twice`);
    this.handlers.set(channel, async (args) => handler(args as never));
  }

  has(channel: string): boolean {
    return this.handlers.has(channel as ChannelName) || this.lazyAreas.has(channel.split(':')[0] ?? '');
  }

  async dispatch(channel: string, rawArgs: unknown): Promise<Envelope<unknown>> {
    try {
      const def = await schemas.channel(channel);
      if (def && !this.handlers.has(channel as ChannelName)) await this.lazyAreas.get(channel.split(':')[0] ?? '')?.();
      const handler = this.handlers.get(channel as ChannelName);
      if (!def || !handler) throw new OutpostError('not-found', `no such command: ${String(channel)}`);
      const parsed = def.args.safeParse(rawArgs ?? undefined);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length ? `${issue.path.join('.')}: ` : '';
        throw new OutpostError('invalid-input', `${channel}: ${where}${issue?.message ?? 'invalid arguments'}`);
      }
      const result = await handler(parsed.data);
      return { result };
    } catch (err) {
      return { error: toErrorBody(err) };
    }
  }

  async invoke<C extends ChannelName>(channel: C, args?: ArgsOf<C>): Promise<Envelope<ResultOf<C>>> {
    return (await this.dispatch(channel, args)) as Envelope<ResultOf<C>>;
  }
}

type Listener = (event: EventName, payload: unknown) => void;

/** Services publish "something changed" here; every transport forwards it to its subscribers. */
export class EventBus {
  private readonly listeners = new Set<Listener>();
  private queue: Promise<void> | undefined;

  emit<E extends EventName>(event: E, payload: PayloadOf<E>): void {
    const schema = this.queue ? undefined : schemas.eventNow(event);
    if (schema) {
      this.deliver(event, schema.parse(payload));
      return;
    }
    // The event's area is not loaded yet (services preload their own, so this is rare): validate and deliver once it
    // is, in emission order.
    const queued = (this.queue ?? Promise.resolve())
      .then(async () => {
        const later = await schemas.event(event);
        if (!later) throw new Error('no such event');
        this.deliver(event, later.parse(payload));
      })
      .catch((err: unknown) => console.error(`outpost: event ${event} dropped: ${err instanceof Error ? err.message : String(err)}`));
    this.queue = queued;
    void queued.then(() => {
      if (this.queue === queued) this.queue = undefined;
    });
  }

  private deliver(event: EventName, payload: unknown): void {
    for (const listener of [...this.listeners]) listener(event, payload);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
