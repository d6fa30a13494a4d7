import { OutpostError } from '../../../shared/errors';
import type { ExecHandle, SshConnection } from '../transport/ssh-connection';
import type { Probe, ProbeResult } from './probes';

/**
 * The helper run on the device for on-device probes: the same TCP connect / HTTP GET, timed there with
 * perf_counter, so the link between laptop and device is not in the figure. Each request is one stdin line
 * `SEQ tcp HOST PORT TIMEOUT_S` or `SEQ http HOST PORT PATH TIMEOUT_S`, each answer one line
 * `SEQ ok MS [TTFB_MS]` or `SEQ err REASON`; requests run on threads, so a dead target cannot hold up the next.
 * The script is this constant, passed as one quoted argv element; targets only ever arrive as data on stdin.
 */
export const ON_DEVICE_SCRIPT = String.raw`
import socket, sys, threading, time, http.client
lock = threading.Lock()
def say(*a):
    with lock:
        sys.stdout.write(" ".join(str(x) for x in a) + "\n"); sys.stdout.flush()
def probe(parts):
    seq, kind = parts[0], parts[1]
    try:
        if kind == "tcp":
            t0 = time.perf_counter()
            s = socket.create_connection((parts[2], int(parts[3])), timeout=float(parts[4]))
            ms = (time.perf_counter() - t0) * 1000; s.close(); say(seq, "ok", "%.6f" % ms)
        elif kind == "http":
            t0 = time.perf_counter()
            c = http.client.HTTPConnection(parts[2], int(parts[3]), timeout=float(parts[5]))
            c.request("GET", parts[4], headers={"User-Agent": "outpost-latency", "Connection": "close"})
            r = c.getresponse(); ttfb = (time.perf_counter() - t0) * 1000
            r.read(1048576); ms = (time.perf_counter() - t0) * 1000; c.close()
            say(seq, "ok", "%.6f" % ms, "%.6f" % ttfb)
        else:
            say(seq, "err", "unknown-kind")
    except Exception as e:
        say(seq, "err", type(e).__name__)
say("ready")
for line in sys.stdin:
    parts = line.split()
    if len(parts) >= 5:
        threading.Thread(target=probe, args=(parts,), daemon=True).start()
`;

export type OnDeviceTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'http'; host: string; port: number; path: string };

/** Finds an interpreter for the helper; busybox-only devices have none, and are told so. */
async function findPython(conn: SshConnection): Promise<string> {
  for (const candidate of ['python3', '/usr/bin/python3', '/usr/local/bin/python3', 'python']) {
    const r = await conn.run(['sh', '-c', 'command -v "$1"', 'sh', candidate]).catch(() => null);
    const path = r?.code === 0 ? r.stdout.toString('utf8').trim() : '';
    if (path) return path;
  }
  throw new OutpostError('unsupported', 'the on-device probe needs python3 on the device (busybox alone has no sub-millisecond clock); probe from the laptop instead');
}

/** Starts the helper over one exec channel on the device's persistent SSH connection. */
export async function onDeviceProbe(conn: SshConnection, target: OnDeviceTarget, deviceName: string): Promise<Probe> {
  const python = await findPython(conn);
  const handle: ExecHandle = await conn.exec([python, '-u', '-c', ON_DEVICE_SCRIPT]);
  const waiting = new Map<string, { resolve(r: ProbeResult): void; reject(e: Error): void }>();
  let seq = 0;
  let buffered = '';
  let closed = false;
  const ready = new Promise<void>((resolve, reject) => {
    const failTimer = setTimeout(() => reject(new OutpostError('timeout', `${deviceName}: the on-device probe helper did not start`)), 15_000);
    handle.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [id, status, a, b] = line.trim().split(' ');
        if (id === 'ready') {
          clearTimeout(failTimer);
          resolve();
          continue;
        }
        const w = waiting.get(id ?? '');
        if (!w) continue;
        waiting.delete(id as string);
        if (status === 'ok') w.resolve(b === undefined ? { ms: Number(a) } : { ms: Number(a), ttfbMs: Number(b) });
        else w.reject(new OutpostError(a === 'ConnectionRefusedError' ? 'unreachable' : a === 'TimeoutError' || a === 'timeout' ? 'timeout' : 'unreachable', `${deviceName}: on-device ${target.kind} probe failed (${a ?? 'no reason'})`));
      }
    });
    void handle.exit.then(() => {
      clearTimeout(failTimer);
      closed = true;
      reject(new OutpostError('unreachable', `${deviceName}: the on-device probe helper exited`));
      for (const w of waiting.values()) w.reject(new OutpostError('unreachable', `${deviceName}: the on-device probe helper exited`));
      waiting.clear();
    });
  });
  handle.stderr.on('data', () => undefined);
  await ready;
  const describe = target.kind === 'tcp' ? `tcp ${target.host}:${target.port}` : `GET http://${target.host}:${target.port}${target.path}`;
  return {
    method: `${target.kind === 'tcp' ? 'tcp connect' : 'HTTP GET'} on the device (${python})`,
    run: (timeoutMs) =>
      new Promise((resolve, reject) => {
        if (closed) return reject(new OutpostError('unreachable', `${deviceName}: the on-device probe helper is gone`));
        const id = String(++seq);
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new OutpostError('timeout', `${deviceName}: on-device ${describe}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, {
          resolve: (r) => (clearTimeout(timer), resolve(r)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        const seconds = (timeoutMs / 1000).toFixed(3);
        const line = target.kind === 'tcp' ? [id, 'tcp', target.host, target.port, seconds] : [id, 'http', target.host, target.port, target.path, seconds];
        handle.stdin.write(`${line.join(' ')}\n`);
      }),
    close: () => {
      closed = true;
      handle.stdin.end();
      handle.channel.close();
    },
  };
}
