import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Api } from '../../shared/contract';
import { bridgeSocketUrl, createWsApi, type SocketLike, type WsApi } from '../../shared/transport/ws-client';
import { createCore, inProcessApi, type Core } from '../../electron/core/app';
import { startBridge, type Bridge } from '../../electron/server/bridge';

// One behaviour, whatever the transport: the same suite runs in-process and over the browser-mode WebSocket.
let core: Core;
let bridge: Bridge;
let wsApi: WsApi;
const staticDir = mkdtempSync(join(tmpdir(), 'outpost-static-'));

beforeAll(async () => {
  core = createCore({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-contract-')), transport: 'in-process' });
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Outpost</title>');
  bridge = await startBridge({ core, staticDir });
  wsApi = createWsApi(new WebSocket(bridgeSocketUrl(bridge.url, bridge.token)) as unknown as SocketLike);
  await wsApi.ready;
});

afterAll(async () => {
  wsApi.close();
  await bridge.close();
  await core.close();
});

const transports: Array<[string, () => Api]> = [
  ['in-process', () => inProcessApi(core)],
  ['websocket', () => wsApi],
];

describe.each(transports)('contract over %s', (_name, api) => {
  it('answers app:info with the data dir and an online flag', async () => {
    const info = await api().invoke('app:info', {});
    expect(info).toMatchObject({ name: 'Outpost', dataDir: core.config.dataDir });
    expect(typeof info.online).toBe('boolean');
  });

  it('round-trips a device through add, get, update, list and remove', async () => {
    const added = await api().invoke('devices:add', { name: 'gw-1', host: '10.9.8.7', tags: { site: 'plant-3' } });
    expect(added).toMatchObject({ name: 'gw-1', addresses: ['10.9.8.7'], sources: ['manual'], tags: { site: 'plant-3' } });
    expect(await api().invoke('devices:get', { id: added.id })).toEqual(added);
    const updated = await api().invoke('devices:update', { id: added.id, name: 'gw-one', notes: 'north wall' });
    expect(updated).toMatchObject({ name: 'gw-one', notes: 'north wall', addresses: ['10.9.8.7'] });
    expect((await api().invoke('devices:list', { query: 'north' })).map((d) => d.id)).toEqual([added.id]);
    expect(await api().invoke('devices:remove', { id: added.id })).toEqual({ removed: true });
    expect(await api().invoke('devices:remove', { id: added.id })).toEqual({ removed: false });
  });

  it('rejects bad input with kind invalid-input and unknown ids with not-found', async () => {
    await expect(api().invoke('devices:add', { host: 'x; rm -rf /' })).rejects.toMatchObject({ kind: 'invalid-input' });
    await expect(api().invoke('devices:add', {})).rejects.toMatchObject({ kind: 'invalid-input', message: expect.stringContaining('host') });
    await expect(api().invoke('devices:get', { id: 'missing' })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(api().invoke('nope:nothing' as 'app:info', {})).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('delivers devices:changed events', async () => {
    const seen: string[][] = [];
    const off = api().on('devices:changed', (p) => seen.push(p.ids));
    const added = await api().invoke('devices:add', { host: 'gw-events.local' });
    await expect.poll(() => seen.flat()).toContain(added.id);
    off();
  });
});

describe('browser-mode bridge security', () => {
  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, bridge.url), { headers, redirect: 'manual' });

  it('binds to 127.0.0.1 only', () => {
    expect(bridge.server.address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('answers 401 without the token and trades a good token for an HttpOnly cookie', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    const swap = await get(`/?token=${bridge.token}`);
    expect(swap.status).toBe(303);
    expect(swap.headers.get('location')).toBe('/');
    const cookie = swap.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await get('/', { cookie: cookie.split(';')[0]! });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await get('/../../etc/passwd', { cookie: cookie.split(';')[0]! })).status).not.toBe(500);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      void import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port: bridge.port, path: `/?token=${bridge.token}`, headers: { host: 'evil.example' } }, (r) => resolve(r.statusCode ?? 0));
        req.on('error', reject);
        req.end();
      });
    });
    expect(res).toBe(421);
  });

  const upgrade = (headers: Record<string, string>, token?: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(bridgeSocketUrl(bridge.url, token), { headers });
      ws.on('open', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('error', () => resolve('error'));
    });

  it('refuses WebSocket upgrades from a foreign Origin or without the token', async () => {
    expect(await upgrade({ origin: 'http://evil.example' }, bridge.token)).toBe('403');
    expect(await upgrade({ origin: `http://127.0.0.1:${bridge.port}` })).toBe('401');
    expect(await upgrade({ origin: `http://127.0.0.1:${bridge.port}` }, bridge.token)).toBe('open');
  });
});
