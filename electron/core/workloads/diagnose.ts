import type Docker from 'dockerode';
import type { ContainerSummary } from '../../../shared/contract/workloads';
import { OutpostError } from '../../../shared/errors';
import type { Engine } from '../engines/registry';
import { LABEL_SERVICE } from './container-spec';

/** Splits Docker's multiplexed log frames (8-byte header: stream, 0, 0, 0, big-endian length) into text; a TTY stream has none. */
export function demuxLogs(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const stream = buf[i];
    if ((stream !== 0 && stream !== 1 && stream !== 2) || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return out + buf.subarray(i).toString('utf8');
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString('utf8');
    i += 8 + len;
  }
  return out + buf.subarray(i).toString('utf8');
}

/** `--since 10m`, `--since 2h`, or an ISO time → Unix seconds, as the Engine API wants. */
export function sinceSeconds(since: string | undefined, now = Date.now()): number | undefined {
  if (!since) return undefined;
  const rel = /^(\d+)([smhd])$/.exec(since);
  if (rel) return Math.floor(now / 1000) - Number(rel[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[rel[2] as 's'];
  const t = Date.parse(since);
  if (Number.isNaN(t)) throw new OutpostError('invalid-input', `--since takes 10m, 2h, 1d or a date, got ${JSON.stringify(since)}`);
  return Math.floor(t / 1000);
}

/**
 * Query options without the unset ones: docker-modem sends `since=` for an undefined value, which dockerd reads as
 * "no limit" and Podman refuses (400, "unable to interpret time value").
 */
export function withoutUnset<T extends Record<string, unknown>>(opts: T): T {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as T;
}

export function grepFilter(pattern: string | undefined): (line: string) => boolean {
  if (!pattern) return () => true;
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'i');
  } catch {
    const lower = pattern.toLowerCase();
    return (line) => line.toLowerCase().includes(lower);
  }
  return (line) => re.test(line);
}

export async function listContainers(docker: Docker): Promise<ContainerSummary[]> {
  const list = await docker.listContainers({ all: true });
  return Promise.all(
    list.map(async (c) => {
      const info = await docker.getContainer(c.Id).inspect();
      const startedAt = info.State.Running ? info.State.StartedAt : null;
      const health = (info.State as { Health?: { Status: string } }).Health?.Status ?? null;
      return {
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        image: c.Image,
        imageId: c.ImageID,
        state: info.State.Status,
        health,
        restarts: info.RestartCount,
        startedAt,
        uptimeSeconds: startedAt ? Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000)) : null,
        service: c.Labels[LABEL_SERVICE] ?? null,
      };
    }),
  );
}

export async function containerLogs(docker: Docker, container: string, opts: { since?: string; tail?: number; grep?: string }): Promise<string[]> {
  const raw = (await docker.getContainer(container).logs(withoutUnset({ stdout: true, stderr: true, follow: false as const, timestamps: true, since: sinceSeconds(opts.since), tail: opts.tail ?? 1000 }))) as unknown as Buffer;
  const keep = grepFilter(opts.grep);
  return demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)))
    .split('\n')
    .filter((l) => l.length > 0 && keep(l));
}

interface RawStats {
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number; throttling_data?: { throttled_periods: number; throttled_time: number } };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: { cache?: number; inactive_file?: number } };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
}

/** The numbers `docker stats` shows, from one raw stats sample. */
export function summariseStats(s: RawStats) {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus ?? 1;
  const io = s.blkio_stats?.io_service_bytes_recursive ?? [];
  const sumIo = (op: string) => io.filter((e) => e.op.toLowerCase() === op).reduce((n, e) => n + e.value, 0);
  const nets = Object.values(s.networks ?? {});
  const cache = s.memory_stats.stats?.inactive_file ?? s.memory_stats.stats?.cache ?? 0;
  return {
    cpuPercent: sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0,
    memoryBytes: Math.max(0, (s.memory_stats.usage ?? 0) - cache),
    memoryLimitBytes: s.memory_stats.limit ?? 0,
    throttledPeriods: s.cpu_stats.throttling_data?.throttled_periods ?? 0,
    throttledTimeNs: s.cpu_stats.throttling_data?.throttled_time ?? 0,
    networkRxBytes: nets.reduce((n, x) => n + x.rx_bytes, 0),
    networkTxBytes: nets.reduce((n, x) => n + x.tx_bytes, 0),
    blockReadBytes: sumIo('read'),
    blockWriteBytes: sumIo('write'),
  };
}

export async function containerStats(docker: Docker, container: string) {
  const raw = (await docker.getContainer(container).stats({ stream: false })) as unknown as RawStats;
  return summariseStats(raw);
}

// Read-only facts; each command tolerates a missing tool so one absent file never hides the rest.
const FACTS_SCRIPT = [
  'echo "@df"; df -P -k / /var/lib/docker 2>/dev/null',
  'echo "@mem"; cat /proc/meminfo 2>/dev/null | head -n 5',
  'echo "@load"; cat /proc/loadavg 2>/dev/null',
  'echo "@temp"; cat /sys/class/thermal/thermal_zone*/temp 2>/dev/null | head -n 1',
  'echo "@clock"; date +%s%3N',
].join('; ');

export function parseFacts(text: string, laptopMidpointMs: number) {
  const sections = new Map<string, string>();
  let current = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('@')) current = line.slice(1).trim();
    else sections.set(current, `${sections.get(current) ?? ''}${line}\n`);
  }
  const tempRaw = Number((sections.get('temp') ?? '').trim());
  const deviceMs = Number((sections.get('clock') ?? '').trim());
  return {
    diskFree: (sections.get('df') ?? '').trim(),
    memory: (sections.get('mem') ?? '').trim(),
    loadAverage: (sections.get('load') ?? '').trim(),
    temperatureC: (sections.get('temp') ?? '').trim() && Number.isFinite(tempRaw) ? tempRaw / 1000 : null,
    clockSkewMs: Number.isFinite(deviceMs) && deviceMs > 0 ? deviceMs - laptopMidpointMs : 0,
  };
}

export async function deviceFacts(engine: Engine) {
  const info = (await engine.docker.info()) as Record<string, unknown>;
  const before = Date.now();
  const r = await engine.ssh.run(['sh', '-c', FACTS_SCRIPT]);
  const after = Date.now();
  return { engine: info, ...parseFacts(r.stdout.toString('utf8'), (before + after) / 2) };
}
