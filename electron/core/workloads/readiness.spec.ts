import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judge, parseProbe } from './readiness';

// A running container without a Docker healthcheck: the `outpost.probe` label decides.
const docker = { getContainer: () => ({ inspect: async () => ({ State: { Status: 'running', Restarting: false }, RestartCount: 0 }) }) } as unknown as Docker;
const look = (probeLabel: string) => judge(docker, 'c0ffee', { host: '127.0.0.1', probeLabel, stableMs: 60_000, startedAt: Date.now() });

let server: Server;
let port: number;
let closedPort: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    const status = Number(req.url?.slice(1)) || 404;
    res.writeHead(status, status === 302 ? { location: '/200' } : {}).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  const spare = createServer();
  await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise((r) => spare.close(r));
});

afterAll(() => new Promise((r) => server.close(r)));

describe('readiness probe (outpost.probe)', () => {
  it('parses tcp:PORT and http:PORT/path', () => {
    expect(parseProbe('tcp:8080')).toEqual({ kind: 'tcp', port: 8080, path: '/' });
    expect(parseProbe('http:8080/healthz')).toEqual({ kind: 'http', port: 8080, path: '/healthz' });
    expect(parseProbe('http:8080')).toEqual({ kind: 'http', port: 8080, path: '/' });
    expect(parseProbe('udp:53')).toBeUndefined();
    expect(parseProbe(undefined)).toBeUndefined();
  });

  it('http: ready only on a 2xx; a redirect or an error page keeps waiting, naming the probe and the status', async () => {
    expect(await look(`http:${port}/200`)).toEqual({ status: 'ready' });
    expect(await look(`http:${port}/204`)).toEqual({ status: 'ready' });
    expect(await look(`http:${port}/302`)).toEqual({ status: 'waiting', reason: `outpost.probe http:${port}/302 from the laptop: answered HTTP 302` });
    expect(await look(`http:${port}/404`)).toEqual({ status: 'waiting', reason: `outpost.probe http:${port}/404 from the laptop: answered HTTP 404` });
    expect(await look(`http:${port}/503`)).toMatchObject({ status: 'waiting', reason: expect.stringContaining('HTTP 503') });
  });

  it('tcp: ready once the port accepts; a refused connection keeps waiting with the reason', async () => {
    expect(await look(`tcp:${port}`)).toEqual({ status: 'ready' });
    const refused = await look(`tcp:${closedPort}`);
    expect(refused).toMatchObject({ status: 'waiting', reason: expect.stringMatching(new RegExp(`^outpost\\.probe tcp:${closedPort} from the laptop: .*ECONNREFUSED`)) });
    expect(await look(`http:${closedPort}/`)).toMatchObject({ status: 'waiting', reason: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('the healthcheck Outpost runs itself (Podman without systemd)', () => {
  const podmanLike = (exitCodes: number[], healthcheck: Record<string, unknown>) => {
    const runs: string[][] = [];
    const fake = {
      getContainer: () => ({
        inspect: async () => ({ State: { Status: 'running', Restarting: false, Health: { Status: 'starting' } }, RestartCount: 0, Config: { Healthcheck: healthcheck } }),
        exec: async ({ Cmd }: { Cmd: string[] }) => {
          runs.push(Cmd);
          const code = exitCodes[Math.min(runs.length - 1, exitCodes.length - 1)];
          return {
            start: async () => {
              const { PassThrough } = await import('node:stream');
              const s = new PassThrough();
              setImmediate(() => s.end(code ? 'not yet' : ''));
              return s;
            },
            inspect: async () => ({ Running: false, ExitCode: code }),
          };
        },
      }),
    } as unknown as Docker;
    return { fake, runs };
  };
  const reason = 'Podman on a device without systemd never runs healthchecks';

  it('is ready when the check passes, though the engine still says "starting"', async () => {
    const { fake, runs } = podmanLike([1, 0], { Test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1/'], Interval: 1e6, Retries: 3 });
    const state = { failures: 0, lastRunAt: 0 };
    const opts = { host: '127.0.0.1', stableMs: 60_000, startedAt: Date.now(), ownHealthcheck: reason, ownState: state };
    expect(await judge(fake, 'c', opts)).toEqual({ status: 'waiting', reason: `healthcheck (${reason}): exit 1: not yet` });
    await new Promise((r) => setTimeout(r, 5));
    expect(await judge(fake, 'c', opts)).toEqual({ status: 'ready' });
    expect(runs[0]).toEqual(['/bin/sh', '-c', 'wget -q -O /dev/null http://127.0.0.1/']);
  });

  it('fails after `retries` failures in a row, one run per interval, none counted in the start period', async () => {
    const { fake, runs } = podmanLike([1], { Test: ['CMD', 'false'], Interval: 20e6, Retries: 2, StartPeriod: 0 });
    const state = { failures: 0, lastRunAt: 0 };
    const opts = { host: '127.0.0.1', stableMs: 60_000, startedAt: Date.now(), ownHealthcheck: reason, ownState: state };
    expect((await judge(fake, 'c', opts)).status).toBe('waiting');
    // Within the interval: no second run.
    expect((await judge(fake, 'c', opts)).status).toBe('waiting');
    expect(runs.length).toBe(1);
    await new Promise((r) => setTimeout(r, 25));
    expect(await judge(fake, 'c', opts)).toEqual({ status: 'failed', reason: `healthcheck failed 2 times in a row, run by Outpost (${reason}): exit 1: not yet` });

    const grace = podmanLike([1], { Test: ['CMD', 'false'], Interval: 1e6, Retries: 1, StartPeriod: 60e9 });
    const inGrace = { host: '127.0.0.1', stableMs: 60_000, startedAt: Date.now(), ownHealthcheck: reason, ownState: { failures: 0, lastRunAt: 0 } };
    expect((await judge(grace.fake, 'c', inGrace)).status).toBe('waiting');
    await new Promise((r) => setTimeout(r, 5));
    expect((await judge(grace.fake, 'c', inGrace)).status).toBe('waiting');
  });
});
