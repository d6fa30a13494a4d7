// Latency rows: probe accuracy against delay injected by the chunk-holding proxy (10 ms and 50 ms round trips), our
// TCP connect RTT against iputils ping in the same namespace, the Latency view's frame time and CPU with 50 series ×
// 10k points at 10 Hz in headless Chromium, and the probe scheduler's own cost for 200 targets at 10 Hz against a
// bare connect loop. Every anchor is measured in this run.
import { execFile } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { inProcessApi } from '../../../electron/core/app';
import type { Core } from '../../../electron/core/app';
import { percentile, summarize } from '../../../shared/latency/stats';
import { openBrowserSession } from '../../e2e/pages/browser-session';
import { startLatencyLoad } from '../../e2e/support/latency-load';
import { startDelayProxy } from '../../lab/delay-proxy';
import type { BenchContext, BenchRow } from '../types';

const sorted = (xs: number[]) => Float64Array.from(xs).sort();
const p = (xs: number[], q: number) => percentile(sorted(xs), q) as number;

async function measureP50(core: Core, device: string, target: string, link: object, durationS = 5, intervalMs = 50): Promise<number> {
  const m = await inProcessApi(core).invoke('latency:measure', { device, target, link, intervalMs, timeoutMs: 2000, durationS, onDevice: false });
  if (m.summary.p50 === null) throw new Error(`${target}: no answers (${JSON.stringify(m.lastError)})`);
  return m.summary.p50;
}

function pingTimes(host: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    execFile('ping', ['-n', '-c', String(count), '-i', '0.05', host], { timeout: 60_000 }, (err, stdout) => {
      const times = [...stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
      if (times.length === 0) reject(err ?? new Error('ping printed no times'));
      else resolve(times);
    });
  });
}

async function accuracyRows(ctx: BenchContext): Promise<BenchRow[]> {
  const dev = ctx.lab.devices[0];
  if (!dev) throw new Error('latency rows need one lab device');
  const link = { identityFile: ctx.lab.clientKeyPath, acceptNewHostKey: true };
  const direct = ctx.core.devices.find(dev.ip) ?? ctx.core.devices.add({ name: `${dev.name}-lat`, host: dev.ip });
  const rows: BenchRow[] = [];
  const baseline = await measureP50(ctx.core, direct.id, 'ssh', link);
  for (const roundTripMs of [10, 50]) {
    const proxy = await startDelayProxy({ host: dev.ip, port: 22 }, roundTripMs / 2);
    try {
      const via = ctx.core.devices.add({ name: `${dev.name}-via-${roundTripMs}`, host: '127.0.0.1', sshPort: proxy.port });
      await measureP50(ctx.core, via.id, 'ssh', link, 1); // connect and pin outside the measured window
      proxy.takeHeldMs();
      const added = (await measureP50(ctx.core, via.id, 'ssh', link)) - baseline;
      const injected = 2 * proxy.takeHeldMs();
      rows.push({ metric: `probe accuracy: SSH round trip through a proxy, ${roundTripMs} ms injected (added p50)`, ours: added, anchor: injected, unit: 'ms', anchorName: 'delay the proxy really held, both ways', note: 'goal: within 10 % (0.9–1.1x)' });
    } finally {
      await proxy.close();
    }
  }
  const tcp = await measureP50(ctx.core, direct.id, 'tcp:22', link, 5);
  const ping = p(await pingTimes(dev.ip, 100), 0.5);
  rows.push({ metric: 'TCP connect RTT to the device (p50)', ours: tcp, anchor: ping, unit: 'ms', anchorName: 'iputils ping, same netns', note: 'connect = one SYN/SYN-ACK round trip, timed in user space' });
  return rows;
}

async function rendererRows(ctx: BenchContext): Promise<BenchRow[]> {
  const seconds = 10;
  let load: Awaited<ReturnType<typeof startLatencyLoad>> | undefined;
  const session = await openBrowserSession({ viewport: { width: 1800, height: 7000 }, seed: async (api, _home, core) => void (load = await startLatencyLoad(api, core, { series: 50, points: 10_000, intervalMs: 100 })) });
  try {
    const { page } = session;
    await session.shell.goTo('latency');
    await page.getByTestId('latency-series').nth(49).waitFor({ timeout: 60_000 });
    await page.getByTestId('latency-span').getByText('all').click();
    // All 50 on screen (3 columns, a tall window): the worst case, every plot drawn.
    await page.getByLabel('Columns').getByText('3').click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="latency-plot"]')].every((e) => Number(e.getAttribute('data-points')) >= 10_000), undefined, { timeout: 60_000 });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const taskSeconds = async () => ((await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) as number;
    const sample = async () => {
      const cpu0 = await taskSeconds();
      const wall0 = performance.now();
      // A string, not a function: tsx would wrap a function's inner names in a helper the page does not have.
      const frames = (await page.evaluate(
        `new Promise((resolve) => { const out = []; let last = performance.now(); const end = last + ${seconds * 1000};
          const step = (t) => { out.push(t - last); last = t; if (t < end) requestAnimationFrame(step); else resolve(out); };
          requestAnimationFrame(step); })`,
      )) as number[];
      const cpu = ((await taskSeconds()) - cpu0) / ((performance.now() - wall0) / 1000);
      return { p95: p(frames.slice(1), 0.95), cpu: cpu * 100 };
    };
    ctx.log('latency: renderer, 50 × 10k live');
    const live = await sample();
    await page.getByTestId('latency-pause').click();
    ctx.log('latency: renderer, same page paused');
    const paused = await sample();
    await page.getByTestId('latency-pause').click();
    return [
      { metric: 'Latency view, 50 series × 10k points at 10 Hz: p95 frame time', ours: live.p95, anchor: paused.p95, unit: 'ms', anchorName: 'same page, drawing paused', note: 'goal: p95 ≤ 16 ms (headless Chromium, software GL)' },
      { metric: 'Latency view, same: renderer main-thread CPU', ours: live.cpu, anchor: paused.cpu, unit: '%', anchorName: 'same page, drawing paused', note: 'CDP TaskDuration per wall second' },
    ];
  } finally {
    await load?.close();
    await session.close();
  }
}

/** 200 × 10 Hz connects by a bare loop: no scheduler, no ring, no stats, no events — the floor for the same traffic. */
async function bareLoop(port: number, targets: number, intervalMs: number, seconds: number): Promise<{ cpuPct: number; skew: number[] }> {
  const skew: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < targets; i++) {
    let next = performance.now() + intervalMs;
    const tick = () => {
      skew.push(performance.now() - next);
      next += intervalMs;
      const s = tcpConnect({ host: '127.0.0.1', port }, () => s.destroy());
      s.on('error', () => undefined);
      timers[i] = setTimeout(tick, Math.max(0, next - performance.now()));
    };
    timers[i] = setTimeout(tick, intervalMs);
  }
  await new Promise((r) => setTimeout(r, seconds * 1000));
  timers.forEach(clearTimeout);
  const used = process.cpuUsage(cpu0);
  return { cpuPct: ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100, skew };
}

async function overheadRows(ctx: BenchContext): Promise<BenchRow[]> {
  const targets = 200;
  const intervalMs = 100;
  const seconds = 10;
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const api = inProcessApi(ctx.core);
    const box = ctx.core.devices.find('127.0.0.1') ?? ctx.core.devices.add({ name: 'bench-loopback', host: '127.0.0.1' });
    ctx.log('latency: 200 targets at 10 Hz through the monitor');
    const ids: string[] = [];
    for (let i = 0; i < targets; i++) ids.push((await api.invoke('latency:start', { device: box.id, target: `tcp:127.0.0.1:${port}`, intervalMs, timeoutMs: 1000 })).id);
    await new Promise((r) => setTimeout(r, 1000));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const from = performance.timeOrigin + t0;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const used = process.cpuUsage(cpu0);
    const oursCpu = ((used.user + used.system) / 1000 / (performance.now() - t0)) * 100;
    const skew: number[] = [];
    let lost = 0;
    let count = 0;
    for (const id of ids) {
      const s = ctx.core.latency.monitor.get(id);
      if (!s) continue;
      const { times, values } = s.buffer.view();
      const start = s.buffer.indexAtOrAfter(from);
      const st = summarize(values, start);
      lost += st.lost;
      count += st.count;
      for (let i = start + 1; i < times.length; i++) skew.push(Math.abs((times[i] as number) - (times[i - 1] as number) - intervalMs));
    }
    for (const id of ids) await api.invoke('latency:remove', { seriesId: id });
    ctx.log('latency: the same traffic from a bare loop');
    const bare = await bareLoop(port, targets, intervalMs, seconds);
    const bareSkew = bare.skew.map(Math.abs);
    return [
      { metric: '200 targets at 10 Hz: core CPU (probes, ring, stats, batched events)', ours: oursCpu, anchor: bare.cpuPct, unit: '% of a core', anchorName: 'bare setTimeout + connect loop', note: `${count} probes, ${lost} lost in ${seconds} s` },
      { metric: '200 targets at 10 Hz: timestamp skew, p95 |interval − 100 ms|', ours: p(skew, 0.95), anchor: p(bareSkew, 0.95), unit: 'ms', anchorName: 'bare loop, same', note: `max ${p(skew, 1).toFixed(1)} ms vs ${p(bareSkew, 1).toFixed(1)} ms` },
    ];
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

export async function rows(ctx: BenchContext): Promise<BenchRow[]> {
  return [...(await accuracyRows(ctx)), ...(await overheadRows(ctx)), ...(await rendererRows(ctx))];
}
