import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { interfacesSignature, OnlineMonitor, reachTarget, redactUrl } from './online';

let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

describe('online', () => {
  it('derives host, port and TLS from the upstream URL and never shows credentials', () => {
    expect(reachTarget('mqtts://u:secret@broker.example')).toMatchObject({ host: 'broker.example', port: 8883, tls: true, url: 'mqtts://broker.example' });
    expect(reachTarget('mqtt://10.0.0.5')).toMatchObject({ port: 1883, tls: false });
    expect(reachTarget('https://[::1]:8443/ingest')).toMatchObject({ host: '::1', port: 8443, tls: true });
    expect(redactUrl('http://a:b@h:1/x')).toBe('http://h:1/x');
  });

  it('says lan-only while nothing answers and reports the change once the upstream listens', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const changes: string[] = [];
    const monitor = new OnlineMonitor({ target: () => reachTarget(`mqtt://127.0.0.1:${port}`), intervalMs: () => 60_000, onChange: (r) => changes.push(r.state) });
    expect((await monitor.check()).state).toBe('lan-only');
    expect(monitor.current().error).toMatch(/ECONNREFUSED/);
    const server = createServer((s) => s.end());
    servers.push(server);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    expect((await monitor.check()).state).toBe('upstream-reachable');
    await monitor.check();
    expect(changes).toEqual(['lan-only', 'upstream-reachable']);
    monitor.stop();
  });

  it('has no upstream to check until one is configured, and fingerprints interfaces without traffic', async () => {
    const monitor = new OnlineMonitor({ target: () => null, intervalMs: () => 1000, onChange: () => undefined });
    expect((await monitor.check()).state).toBe('no-upstream');
    expect(interfacesSignature(() => ({ lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: null }] }))).toBe('lo=127.0.0.1/255.0.0.0');
  });
});
