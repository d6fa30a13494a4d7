import { z } from 'zod';

/** Byte sizes as compose writes them: 268435456, "256m", "1g", "512k", "100b". */
export function parseByteSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*$/i.exec(value);
  if (!m?.[1]) return undefined;
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  const bytes = Math.round(Number(m[1]) * unit);
  return bytes > 0 ? bytes : undefined;
}

/** Durations as compose writes them: "30s", "1m30s", "500ms", "1h". */
export function parseDurationMs(value: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/g;
  let total = 0;
  let consumed = '';
  for (const m of value.trim().matchAll(re)) {
    const n = Number(m[1]);
    total += n * ({ h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 }[m[2] as 'h'] ?? 0);
    consumed += m[0];
  }
  return consumed.length > 0 && consumed === value.trim() ? Math.round(total) : undefined;
}

const stringOrList = z.union([z.string(), z.array(z.string())]);
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const mapOrList = z.union([z.record(z.string(), scalar), z.array(z.string())]);
const byteSize = z.union([z.string(), z.number()]).refine((v) => parseByteSize(v) !== undefined, { message: 'expected a size like 256m, 1g or a byte count' });
const duration = z.string().refine((v) => parseDurationMs(v) !== undefined, { message: 'expected a duration like 10s, 1m30s or 500ms' });
const capability = z.string().regex(/^[A-Z_]+$/, 'expected a capability name like NET_ADMIN or ALL');

export const ComposeService = z
  .object({
    image: z.string().min(1),
    command: stringOrList.optional(),
    entrypoint: stringOrList.optional(),
    environment: mapOrList.optional(),
    env_file: stringOrList.optional(),
    ports: z.array(z.union([z.string(), z.number().int()])).optional(),
    volumes: z.array(z.string()).optional(),
    tmpfs: stringOrList.optional(),
    network_mode: z.string().regex(/^(host|none|bridge|default|[A-Za-z0-9][A-Za-z0-9_.-]*)$/, 'expected host, none, bridge or a network name').optional(),
    cpuset: z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'expected CPU numbers like 0-1 or 2,3').optional(),
    cpus: z.union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?$/)]).optional(),
    mem_limit: byteSize.optional(),
    restart: z.string().regex(/^(no|always|unless-stopped|on-failure(:\d+)?)$/, 'expected no, always, unless-stopped or on-failure[:N]').optional(),
    healthcheck: z
      .object({
        test: stringOrList.optional(),
        interval: duration.optional(),
        timeout: duration.optional(),
        start_period: duration.optional(),
        retries: z.number().int().nonnegative().optional(),
        disable: z.boolean().optional(),
      })
      .strict()
      .optional(),
    cap_drop: z.array(capability).optional(),
    cap_add: z.array(capability).optional(),
    read_only: z.boolean().optional(),
    user: z.union([z.string(), z.number().int()]).optional(),
    devices: z.array(z.string()).optional(),
    labels: mapOrList.optional(),
    logging: z.object({ driver: z.string().min(1).optional(), options: z.record(z.string(), scalar).optional() }).strict().optional(),
    security_opt: z.array(z.string()).optional(),
  })
  .strict();
export type ComposeService = z.infer<typeof ComposeService>;

export const ComposeFile = z
  .object({
    version: z.union([z.string(), z.number()]).optional(),
    name: z.string().optional(),
    services: z.record(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'service names use letters, digits, . _ -'), ComposeService),
  })
  .strict();
export type ComposeFile = z.infer<typeof ComposeFile>;
