// A TCP proxy on the technician's loopback that holds every chunk N ms in each direction before passing it on — the
// lab's stand-in for netem, which this kernel lacks. Order is kept: a chunk never overtakes the one before it. It
// cannot delay the TCP handshake itself (the kernel completes that before accept), so it adds N to each direction of
// an established stream: an HTTP request/response or an SSH round trip gains 2N.
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';

export interface DelayProxy {
  port: number;
  delayMs: number;
  /**
   * How long chunks were really held since the last call (median, ms): timers fire late on a loaded machine, so the
   * delay actually injected is measured, not assumed.
   */
  takeHeldMs(): number;
  /** Stop accepting (existing streams are cut): a target that stops answering. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One direction of a stream: data, end and close are queued in arrival order, each due N ms after it arrived, and
 * one timer plays them out in that order (separate timers could let an end or a close overtake data when a loaded
 * machine fires them late together).
 */
function delayed(from: Socket, to: Socket, delayMs: () => number, held: (ms: number) => void): void {
  const queue: Array<{ due: number; act: () => void }> = [];
  let timer: NodeJS.Timeout | null = null;
  const pump = () => {
    timer = null;
    while (queue.length && (queue[0] as { due: number }).due <= performance.now()) (queue.shift() as { act: () => void }).act();
    if (queue.length) timer = setTimeout(pump, Math.max(0, (queue[0] as { due: number }).due - performance.now()));
  };
  const later = (act: () => void) => {
    const received = performance.now();
    const last = queue.length ? (queue[queue.length - 1] as { due: number }).due : 0;
    queue.push({ due: Math.max(received + delayMs(), last), act });
    if (!timer) timer = setTimeout(pump, Math.max(0, (queue[0] as { due: number }).due - received));
  };
  from.on('data', (chunk: Buffer) => {
    const received = performance.now();
    later(() => {
      if (to.destroyed) return;
      to.write(chunk);
      held(performance.now() - received);
    });
  });
  from.on('end', () => later(() => to.end()));
  from.on('error', () => undefined);
  from.on('close', () => later(() => to.destroy()));
}

export async function startDelayProxy(target: { host: string; port: number }, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const state = { delayMs };
  let held: number[] = [];
  const record = (ms: number) => void held.push(ms);
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer({ noDelay: true }, (client) => {
        const upstream = tcpConnect({ host: target.host, port: target.port, noDelay: true });
        sockets.add(client).add(upstream);
        client.on('close', () => sockets.delete(client));
        upstream.on('close', () => sockets.delete(upstream));
        delayed(client, upstream, () => state.delayMs, record);
        delayed(upstream, client, () => state.delayMs, record);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await listen();
  return {
    get port() {
      return port;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    takeHeldMs() {
      const sorted = held.sort((a, b) => a - b);
      held = [];
      return sorted.length ? (sorted[Math.ceil(sorted.length / 2) - 1] as number) : NaN;
    },
    pause: stop,
    resume: listen,
    close: stop,
  };
}

/**
 * A workload endpoint for latency tests, run on a device: GET /sleep/N answers after sleeping N ms (threaded, so
 * probes in flight do not queue behind each other); anything else answers at once.
 */
export const SLEEPY_SERVER = String.raw`
import http.server, socketserver, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "sleep":
            time.sleep(int(parts[1]) / 1000.0)
        body = b"ok\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
S(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
`;
