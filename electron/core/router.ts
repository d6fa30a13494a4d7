import { channels, events, type ArgsOf, type ChannelName, type EventName, type ParsedArgsOf, type PayloadOf, type ResultOf } from '../../shared/contract';
import { OutpostError, toErrorBody, type Envelope } from '../../shared/errors';

export type Handler<C extends ChannelName> = (args: ParsedArgsOf<C>) => Promise<ResultOf<C>> | ResultOf<C>;

/**
 * The one place requests enter the core, whatever transport carried them: validates the arguments with the
 * contract's zod schema, runs the service's handler and always answers with an envelope.
 */
export class Router {
  private readonly handlers = new Map<ChannelName, (args: unknown) => Promise<unknown>>();

  handle<C extends ChannelName>(channel: C, handler: Handler<C>): void {
    if (this.handlers.has(channel)) throw new Error(`handler for ${channel} registered twice`);
    this.handlers.set(channel, async (args) => handler(args as never));
  }

  has(channel: string): boolean {
    return this.handlers.has(channel as ChannelName);
  }

  async dispatch(channel: string, rawArgs: unknown): Promise<Envelope<unknown>> {
    try {
      const def = (channels as Record<string, (typeof channels)[ChannelName]>)[channel];
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

  emit<E extends EventName>(event: E, payload: PayloadOf<E>): void {
    const checked = events[event].parse(payload);
    for (const listener of [...this.listeners]) listener(event, checked);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
