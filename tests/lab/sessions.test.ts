import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import { startBridge } from '../../electron/server/bridge';
import type { Api, LinkOptions } from '../../shared/contract';
import { bridgeSocketUrl, createWsApi, type SocketLike } from '../../shared/transport/ws-client';
import { importBusyboxImage, startLab, type Lab, type LabDevice } from './lab';

// Terminal sessions against real devices: a shell inside a container through the device's engine (over the one
// SSH connection), a login shell over SSH, and the acknowledgement window that keeps a flood from the device
// from piling up in the laptop.
const IMAGE = 'outpost/busybox:lab';
const CONTAINER = 'ticker';
const WAIT = { timeout: 20_000, interval: 50 };

let lab: Lab;
let dev: LabDevice;
let core: Core;
let api: Api;
let home: string;
let link: LinkOptions;

/** What the laptop has received on one session, and its exit. */
class Terminal {
  chunks: Buffer[] = [];
  exit: { code: number | null } | null = null;
  constructor(readonly sessionId: string) {}
  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  get bytes(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  write(text: string): Promise<unknown> {
    return api.invoke('sessions:write', { sessionId: this.sessionId, data: Buffer.from(text).toString('base64') });
  }
}

const terminals = new Map<string, Terminal>();

async function open(args: Parameters<typeof api.invoke<'sessions:open'>>[1]): Promise<Terminal> {
  const { sessionId } = await api.invoke('sessions:open', args);
  const t = new Terminal(sessionId);
  terminals.set(sessionId, t);
  return t;
}

beforeAll(async () => {
  lab = await startLab({ devices: [{ name: 'term-1', docker: true }] });
  dev = lab.device('term-1');
  await importBusyboxImage(dev, IMAGE);
  const docker = new Docker({ socketPath: dev.dockerSocketHostPath });
  const container = await docker.createContainer({ name: CONTAINER, Image: IMAGE, Cmd: ['sh', '-c', 'while true; do sleep 1; done'], HostConfig: { NetworkMode: 'host' } });
  await container.start();

  home = mkdtempSync(join(tmpdir(), 'outpost-sessions-'));
  core = createCore({ dataDir: home, transport: 'in-process' });
  api = inProcessApi(core);
  core.devices.add({ name: dev.name, host: dev.ip });
  link = { identityFile: lab.clientKeyPath, acceptNewHostKey: true };
  // Events arrive before the test sees the sessionId only if the core broke its promise; record them anyway.
  api.on('sessions:data', ({ sessionId, data }) => {
    const t = terminals.get(sessionId);
    if (t) t.chunks.push(Buffer.from(data, 'base64'));
  });
  api.on('sessions:exit', ({ sessionId, code }) => {
    const t = terminals.get(sessionId);
    if (t) t.exit = { code };
  });
});

afterAll(async () => {
  await core?.close();
  await lab?.teardown();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('terminal sessions on a real device', () => {
  it('runs commands in a shell inside a container, follows a resize, and reports the exit code', async () => {
    const t = await open({ kind: 'docker-exec', device: dev.name, container: CONTAINER, link, cols: 80, rows: 24 });
    await t.write('echo "marker-$((6 * 7))"\n');
    await vi.waitFor(() => expect(t.text).toContain('marker-42'), WAIT);

    await api.invoke('sessions:resize', { sessionId: t.sessionId, cols: 132, rows: 43 });
    await t.write('stty size\n');
    await vi.waitFor(() => expect(t.text).toMatch(/43 132/), WAIT);

    await t.write('exit 7\n');
    await vi.waitFor(() => expect(t.exit).toEqual({ code: 7 }), WAIT);
    expect((await api.invoke('sessions:list', {})).map((s) => s.sessionId)).not.toContain(t.sessionId);
  });

  it('opens a login shell on the device over SSH', async () => {
    const t = await open({ kind: 'ssh-shell', device: dev.name, link, cols: 100, rows: 30 });
    await t.write('hostname; stty size\n');
    await vi.waitFor(() => expect(t.text).toContain(dev.hostname), WAIT);
    await vi.waitFor(() => expect(t.text).toMatch(/30 100/), WAIT);
    await t.write('exit 5\n');
    await vi.waitFor(() => expect(t.exit).toEqual({ code: 5 }), WAIT);
  });

  it('pauses a flooding command until the bytes are acknowledged, and loses nothing', async () => {
    const total = 16 * 1024 * 1024;
    const line = '0123456789abcdef\n';
    // -opost: the pty passes bytes untouched (no \n → \r\n), so what arrives can be compared byte for byte.
    const flood = `stty -opost -echo; yes 0123456789abcdef | head -c ${total}; printf '%s' END`;
    const opened = await api.invoke('sessions:open', { kind: 'docker-exec', device: dev.name, container: CONTAINER, cmd: ['sh', '-c', flood], link, cols: 80, rows: 24 });
    const t = new Terminal(opened.sessionId);
    terminals.set(t.sessionId, t);

    const listed = async () => (await api.invoke('sessions:list', {})).find((s) => s.sessionId === t.sessionId);
    await vi.waitFor(async () => expect((await listed())?.paused).toBe(true), WAIT);
    // Paused with the producer still alive on the device: `head` is blocked writing, not finished.
    const ps = await dev.exec(['docker', 'exec', CONTAINER, 'ps']);
    expect(ps.stdout).toMatch(/head -c/);
    const pausedAt = t.bytes;
    expect(pausedAt).toBeGreaterThan(opened.windowBytes);
    expect(pausedAt).toBeLessThan(opened.windowBytes + 256 * 1024);
    expect(t.bytes).toBeLessThan(total);

    // Acknowledge as we consume: the flood resumes and completes.
    let acked = 0;
    await vi.waitFor(
      async () => {
        const received = t.bytes;
        if (received > acked) {
          await api.invoke('sessions:ack', { sessionId: t.sessionId, bytes: received - acked });
          acked = received;
        }
        expect(t.text.endsWith('END')).toBe(true);
      },
      { timeout: 120_000, interval: 20 },
    );
    const expected = line.repeat(Math.ceil(total / line.length)).slice(0, total) + 'END';
    expect(t.bytes).toBe(expected.length);
    expect(t.text === expected).toBe(true);
    await vi.waitFor(() => expect(t.exit).toEqual({ code: 0 }), WAIT);
  });

  it('ends the shells of a browser tab that goes away without closing them', async () => {
    const bridge = await startBridge({ core, staticDir: home });
    try {
      const socket = new WebSocket(bridgeSocketUrl(bridge.url, bridge.token));
      const tab = createWsApi(socket as unknown as SocketLike);
      await tab.ready;
      const { sessionId } = await tab.invoke('sessions:open', { kind: 'docker-exec', device: dev.name, container: CONTAINER, cmd: ['sh', '-c', 'echo ready; exec sleep 300'], link, cols: 80, rows: 24 });
      const listed = async () => (await api.invoke('sessions:list', {})).map((s) => s.sessionId);
      expect(await listed()).toContain(sessionId);
      await vi.waitFor(async () => expect((await dev.exec(['docker', 'exec', CONTAINER, 'ps'])).stdout).toMatch(/sleep 300/), WAIT);
      socket.terminate(); // the tab is closed: no sessions:close ever arrives
      await vi.waitFor(async () => expect(await listed()).not.toContain(sessionId), WAIT);
      await vi.waitFor(async () => expect((await dev.exec(['docker', 'exec', CONTAINER, 'ps'])).stdout).not.toMatch(/sleep 300/), WAIT);
    } finally {
      await bridge.close();
    }
  });

  it('refuses input for a session that has ended', async () => {
    await expect(api.invoke('sessions:write', { sessionId: 'gone', data: '' })).rejects.toMatchObject({ kind: 'not-found' });
  });
});
