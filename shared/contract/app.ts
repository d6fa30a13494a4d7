import { z } from 'zod';
import { channel } from './define';

/**
 * Whether the configured upstream (MQTT broker or HTTP endpoint) answers a TCP or TLS handshake — "online" means
 * this, not "has a default route" (every site LAN's DHCP gives one).
 */
export const UpstreamReach = z.object({
  state: z.enum(['unknown', 'no-upstream', 'lan-only', 'upstream-reachable']),
  /** The URL checked (credentials never included). */
  target: z.string().nullable(),
  checkedAt: z.string().nullable(),
  /** Why it is not reachable (refused, timed out, no route…). */
  error: z.string().nullable(),
});
export type UpstreamReach = z.infer<typeof UpstreamReach>;

export const AppInfo = z.object({
  name: z.literal('Outpost'),
  version: z.string(),
  dataDir: z.string(),
  /** True when the configured upstream answers (see `upstream`). */
  online: z.boolean(),
  upstream: UpstreamReach.optional(),
  platform: z.string(),
  transport: z.enum(['electron', 'browser', 'in-process']).optional(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const appChannels = {
  'app:info': channel(z.object({}).strict().default({}), AppInfo),
};

export const appEvents = {
  'app:online-changed': z.object({ online: z.boolean(), upstream: UpstreamReach.optional() }),
};
