import type { z } from 'zod';
import { appChannels, appEvents } from './app';
import { devicesChannels, devicesEvents } from './devices';

export * from './app';
export * from './devices';
export * from './define';

/**
 * The whole contract: `'<service>:<verb>'` → {args, result} schemas, and `'<service>:<event>'` → payload schema.
 * Each service owns its file in this folder; this index only merges them.
 */
export const channels = {
  ...appChannels,
  ...devicesChannels,
};

export const events = {
  ...appEvents,
  ...devicesEvents,
};

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
export type Events = typeof events;
export type EventName = keyof Events;

export type ArgsOf<C extends ChannelName> = z.input<Channels[C]['args']>;
export type ParsedArgsOf<C extends ChannelName> = z.output<Channels[C]['args']>;
export type ResultOf<C extends ChannelName> = z.output<Channels[C]['result']>;
export type PayloadOf<E extends EventName> = z.output<Events[E]>;

export const CHANNEL_NAMES = Object.keys(channels) as ChannelName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name);
}
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}

/** The object every caller holds: `window.outpost` in the renderer, the CLI's client, the tests' client. */
export interface Api {
  invoke<C extends ChannelName>(channel: C, args?: ArgsOf<C>): Promise<ResultOf<C>>;
  on<E extends EventName>(event: E, listener: (payload: PayloadOf<E>) => void): () => void;
}
