import { z } from 'zod';

/** Frames of the browser-mode bridge. Every request gets exactly one envelope back, matched by id. */
export const ClientFrame = z.object({
  t: z.literal('invoke'),
  id: z.number().int().nonnegative(),
  channel: z.string().max(100),
  args: z.unknown().optional(),
});
export type ClientFrame = z.infer<typeof ClientFrame>;

export type ServerFrame =
  | { t: 'result'; id: number; envelope: { result: unknown } | { error: { kind: string; message: string; details?: Record<string, unknown> } } }
  | { t: 'event'; event: string; payload: unknown };

export const TOKEN_COOKIE = 'outpost_token';
export const API_PATH = '/api';
