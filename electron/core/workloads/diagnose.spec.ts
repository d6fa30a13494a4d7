import { describe, expect, it } from 'vitest';
import { demuxLogs, grepFilter, parseFacts, sinceSeconds, summariseStats } from './diagnose';
import { looksSecret, redact, redactText, REDACTED } from './support-bundle';

const frame = (stream: number, text: string) => {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
};

describe('diagnostics parsing', () => {
  it('demultiplexes Docker log frames and passes TTY output through', () => {
    expect(demuxLogs(Buffer.concat([frame(1, 'out line\n'), frame(2, 'err line\n')]))).toBe('out line\nerr line\n');
    expect(demuxLogs(Buffer.from('plain tty text\n'))).toBe('plain tty text\n');
  });

  it('reads --since and --grep', () => {
    expect(sinceSeconds('10m', 1_000_000_000)).toBe(1_000_000 - 600);
    expect(sinceSeconds('2026-01-01T00:00:00Z')).toBe(Date.parse('2026-01-01T00:00:00Z') / 1000);
    expect(() => sinceSeconds('yesterday-ish')).toThrow(/--since/);
    expect(grepFilter('err(or)?')('an ERROR here')).toBe(true);
    expect(grepFilter('[unclosed')('x [unclosed y')).toBe(true);
  });

  it('summarises a stats sample like docker stats', () => {
    const s = summariseStats({
      cpu_stats: { cpu_usage: { total_usage: 2_000 }, system_cpu_usage: 20_000, online_cpus: 2, throttling_data: { throttled_periods: 3, throttled_time: 50 } },
      precpu_stats: { cpu_usage: { total_usage: 1_000 }, system_cpu_usage: 10_000 },
      memory_stats: { usage: 10_000, limit: 100_000, stats: { inactive_file: 2_000 } },
      networks: { eth0: { rx_bytes: 5, tx_bytes: 7 } },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 11 }, { op: 'Write', value: 13 }] },
    });
    expect(s).toEqual({ cpuPercent: 20, memoryBytes: 8_000, memoryLimitBytes: 100_000, throttledPeriods: 3, throttledTimeNs: 50, networkRxBytes: 5, networkTxBytes: 7, blockReadBytes: 11, blockWriteBytes: 13 });
  });

  it('parses device facts and the clock skew', () => {
    const f = parseFacts('@df\n/dev/root 100 50 50 50% /\n@mem\nMemTotal: 1000 kB\n@load\n0.10 0.20 0.30 1/100 42\n@temp\n48312\n@clock\n1000500\n', 1_000_000);
    expect(f).toMatchObject({ loadAverage: '0.10 0.20 0.30 1/100 42', temperatureC: 48.312, clockSkewMs: 500 });
    expect(parseFacts('@temp\n\n@clock\n5\n', 5).temperatureC).toBeNull();
  });
});

describe('support bundle redaction', () => {
  it('redacts env entries and keys that look like secrets, keeps the rest', () => {
    expect(looksSecret('DB_PASSWORD')).toBe(true);
    expect(looksSecret('MODE')).toBe(false);
    const out = redact({ Config: { Env: ['API_TOKEN=abc', 'MODE=edge', 'AWS_SECRET_ACCESS_KEY=zzz'] }, password: 'x', name: 'web' });
    expect(out).toEqual({ Config: { Env: [`API_TOKEN=${REDACTED}`, 'MODE=edge', `AWS_SECRET_ACCESS_KEY=${REDACTED}`] }, password: REDACTED, name: 'web' });
  });

  it('redacts secrets in free text', () => {
    const text = redactText('login password=hunter2 ok\nAuthorization: Bearer abc.def\n-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n');
    expect(text).not.toMatch(/hunter2|abc\.def|AAAA/);
    expect(text).toContain('login password=');
  });
});
