import type { ChannelMap, EventMap } from './define';

export interface ContractArea {
  channels: ChannelMap;
  events: EventMap;
}

/**
 * Each area's part of the contract (`'<area>:<verb>'`), loadable on its own: the core validates a request with its
 * area's schemas only, so a CLI command does not build the zod schemas of the whole app (~10 MiB, ~60 ms).
 * An area missing here still works: the core then loads the whole contract (./index).
 */
export const contractAreas: Record<string, () => Promise<ContractArea>> = {
  app: () => import('./app').then((m) => ({ channels: m.appChannels, events: m.appEvents })),
  devices: () => import('./devices').then((m) => ({ channels: m.devicesChannels, events: m.devicesEvents })),
  ...areas(['buffers', 'flush', 'store', 'upstream'], () => import('./buffers').then((m) => ({ channels: m.buffersChannels, events: m.buffersEvents }))),
  ...areas(['discovery', 'ssh', 'trust'], () => import('./discovery').then((m) => ({ channels: m.discoveryChannels, events: m.discoveryEvents }))),
  jobs: () => import('./jobs').then((m) => ({ channels: m.jobsChannels, events: m.jobsEvents })),
  pki: () => import('./pki').then((m) => ({ channels: m.pkiChannels, events: m.pkiEvents })),
  link: () => import('./link').then((m) => ({ channels: m.linkChannels, events: m.linkEvents })),
  latency: () => import('./latency').then((m) => ({ channels: m.latencyChannels, events: m.latencyEvents })),
  vault: () => import('./vault').then((m) => ({ channels: m.vaultChannels, events: m.vaultEvents })),
  sessions: () => import('./sessions').then((m) => ({ channels: m.sessionsChannels, events: m.sessionsEvents })),
  workloads: () => import('./workloads').then((m) => ({ channels: m.workloadsChannels, events: m.workloadsEvents })),
};

function areas(names: string[], load: () => Promise<ContractArea>): Record<string, () => Promise<ContractArea>> {
  return Object.fromEntries(names.map((n) => [n, load]));
}

/** The whole contract, for a name no area above knows. */
export const wholeContract = (): Promise<ContractArea> => import('./index').then((m) => ({ channels: m.channels, events: m.events }));

export const areaOf = (name: string): string => name.split(':')[0] ?? '';
