import type { z } from 'zod';
import { appChannels, appEvents } from './app';
import { buffersChannels, buffersEvents } from './buffers';
import { devicesChannels, devicesEvents } from './devices';
import { discoveryChannels, discoveryEvents } from './discovery';
import { latencyChannels, latencyEvents } from './latency';
import { linkChannels, linkEvents } from './link';
import { serialChannels, serialEvents } from './serial';
import { jobsChannels, jobsEvents } from './jobs';
import { pkiChannels, pkiEvents } from './pki';
import { sessionsChannels, sessionsEvents } from './sessions';
import { vaultChannels, vaultEvents } from './vault';
import { workloadsChannels, workloadsEvents } from './workloads';

export * from './app';
export * from './buffers';
export * from './devices';
export * from './discovery';
export * from './latency';
export * from './serial';
export * from './link';
export * from './jobs';
export * from './pki';
export * from './sessions';
export * from './vault';
export * from './workloads';
export * from './define';

/**
 * The whole contract: `'<service>:<verb>'` → {args, result} schemas, and `'<service>:<event>'` → payload schema.
 * Each service owns its file in this folder; this index only merges them.
 */
export const channels = {
  ...appChannels,
  ...buffersChannels,
  ...devicesChannels,
  ...discoveryChannels,
  ...latencyChannels,
  ...linkChannels,
  ...serialChannels,
  ...jobsChannels,
  ...pkiChannels,
  ...sessionsChannels,
  ...workloadsChannels,
  ...vaultChannels,
};

export const events = {
  ...appEvents,
  ...buffersEvents,
  ...devicesEvents,
  ...discoveryEvents,
  ...latencyEvents,
  ...linkEvents,
  ...serialEvents,
  ...jobsEvents,
  ...pkiEvents,
  ...sessionsEvents,
  ...workloadsEvents,
  ...vaultEvents,
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
