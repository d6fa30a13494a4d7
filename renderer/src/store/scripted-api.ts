import { blankDevice, type Api, type ArgsOf, type ChannelName, type Device, type EventName, type PayloadOf, type ResultOf } from '../../../shared/contract';
import { OutpostError } from '../../../shared/errors';

type Handler = (args: unknown) => unknown;

/**
 * A test Api whose answers are scripted per channel (a value, a function of the args, or an error to throw),
 * with `emit` to play the core's events. Records every call in order.
 */
export class ScriptedApi implements Api {
  readonly calls: Array<{ channel: ChannelName; args: unknown }> = [];
  private readonly handlers = new Map<ChannelName, Handler>();
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();

  answer<C extends ChannelName>(channel: C, result: ResultOf<C> | Error | ((args: ArgsOf<C>) => ResultOf<C> | Promise<ResultOf<C>>)): this {
    this.handlers.set(channel, (args) => {
      if (result instanceof Error) throw result;
      return typeof result === 'function' ? (result as (a: unknown) => unknown)(args) : result;
    });
    return this;
  }

  async invoke<C extends ChannelName>(channel: C, args?: ArgsOf<C>): Promise<ResultOf<C>> {
    this.calls.push({ channel, args });
    const handler = this.handlers.get(channel);
    if (!handler) throw new OutpostError('unsupported', `no scripted answer for ${channel}`);
    return (await handler(args)) as ResultOf<C>;
  }

  on<E extends EventName>(event: E, listener: (payload: PayloadOf<E>) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (payload: never) => void);
    this.listeners.set(event, set);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<E extends EventName>(event: E, payload: PayloadOf<E>): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (p: PayloadOf<E>) => void)(payload);
  }

  argsOf(channel: ChannelName): unknown[] {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.args);
  }
}

/** A key-value storage in memory (what the store keeps in localStorage), starting from `initial`; `data` shows what was written. */
export function memoryStorage(initial: Record<string, string> = {}): { data: Map<string, string>; getItem(k: string): string | null; setItem(k: string, v: string): void } {
  const data = new Map(Object.entries(initial));
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) };
}

/** An inventory record with every field filled, for specs: override what the case is about. */
export function testDevice(id: string, over: Partial<Device> = {}): Device {
  return blankDevice(id, '2026-01-01T00:00:00.000Z', { name: id, sources: ['manual'], ...over });
}
