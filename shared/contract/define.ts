import type { z } from 'zod';

/** One invoke channel: what the caller sends and what it gets back, both validated with zod. */
export interface ChannelDef<A extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  args: A;
  result: R;
}

export function channel<A extends z.ZodType, R extends z.ZodType>(args: A, result: R): ChannelDef<A, R> {
  return { args, result };
}

export type ChannelMap = Record<string, ChannelDef>;
export type EventMap = Record<string, z.ZodType>;
