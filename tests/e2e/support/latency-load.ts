// The load the latency plots are judged under, shared by the e2e test and the renderer benchmark row: N series of
// real TCP probes at 10 Hz to a listener on this netns' loopback, each seeded with the history a long session
// would have built (10,000 points), so the page draws N × 10k points that keep growing.
import { createServer, type Server } from 'node:net';
import type { Page } from 'playwright-core';
import type { Core } from '../../../electron/core/app';
import type { Api } from '../../../shared/contract';
import { seededRandom } from '../../../electron/core/latency/bootstrap';

export interface LatencyLoad {
  seriesIds: string[];
  close(): Promise<void>;
}

export async function startLatencyLoad(api: Api, core: Core, opts: { series: number; points: number; intervalMs: number }): Promise<LatencyLoad> {
  const server: Server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const device = await api.invoke('devices:add', { name: 'loopback-box', host: '127.0.0.1' });
  const seriesIds: string[] = [];
  const rnd = seededRandom(7);
  for (let i = 0; i < opts.series; i++) {
    const info = await api.invoke('latency:start', { device: device.id, target: `tcp:127.0.0.1:${port}`, intervalMs: opts.intervalMs, timeoutMs: 1000 });
    const s = core.latency.monitor.get(info.id);
    if (!s) throw new Error(`series ${info.id} vanished`);
    // Rebuilt in one synchronous step: the history goes before the few live samples already taken.
    const { times, values } = s.buffer.view();
    const live = { t: Array.from(times), v: Array.from(values) };
    s.buffer.clear();
    const first = live.t[0] ?? performance.timeOrigin + performance.now();
    for (let k = opts.points; k > 0; k--) s.buffer.push(first - k * opts.intervalMs, rnd() < 0.002 ? NaN : 0.2 + rnd() * (i % 5 === 0 ? 4 : 1));
    for (let k = 0; k < live.t.length; k++) s.buffer.push(live.t[k] as number, live.v[k] as number);
    seriesIds.push(info.id);
  }
  return {
    seriesIds,
    async close() {
      for (const id of seriesIds) await api.invoke('latency:stop', { seriesId: id }).catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Every plot's points and newest sample time, read from the page. */
export async function plotState(page: Page): Promise<Array<{ series: string; points: number; last: number }>> {
  return page.$$eval('[data-testid="latency-plot"]', (els) =>
    els.map((e) => ({ series: e.getAttribute('data-series') ?? '', points: Number(e.getAttribute('data-points') ?? 0), last: Number(e.getAttribute('data-last-time') ?? 0) })),
  );
}
