import { z } from 'zod';
import { channel } from './define';

export const AppInfo = z.object({
  name: z.literal('Outpost'),
  version: z.string(),
  dataDir: z.string(),
  online: z.boolean(),
  platform: z.string(),
  transport: z.enum(['electron', 'browser', 'in-process']).optional(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const appChannels = {
  'app:info': channel(z.object({}).strict().default({}), AppInfo),
};

export const appEvents = {
  'app:online-changed': z.object({ online: z.boolean() }),
};
