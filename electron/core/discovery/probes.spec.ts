import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeDockerVersion, probeHttpTitle, probeMqtt, probeSsh, probeTls } from './probes';
import { tcpProbe } from './tcp-probe';

const servers: Server[] = [];
const sockets = new Set<Socket>();

/** A tiny TCP server on 127.0.0.1 that behaves as badly as asked. */
async function hostile(onConnection: (s: Socket) => void): Promise<number> {
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onConnection(s);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('probeSsh against hostile servers', () => {
  it('bounds and sanitises a huge banner full of escapes', async () => {
    const port = await hostile((s) => s.write(`SSH-2.0-\u001b[31mEVIL\u001b]0;pwned\u0007${'A'.repeat(100_000)}\r\n`));
    const id = await probeSsh('127.0.0.1', port, 1_000);
    expect(id.banner?.startsWith('SSH-2.0-EVIL')).toBe(true);
    expect(id.banner?.length).toBeLessThanOrEqual(255);
    expect(id.banner?.includes('\u001b') || id.banner?.includes('\u0007')).toBe(false);
    expect(id.hostKeyFingerprint).toBeUndefined();
  });

  it('gives up on a never-ending stream at the deadline', async () => {
    const port = await hostile((s) => {
      const chunk = Buffer.alloc(64 * 1024, 0xff);
      const pump = () => {
        while (!s.destroyed && s.write(chunk));
        if (!s.destroyed) s.once('drain', pump);
      };
      pump();
    });
    const started = Date.now();
    const id = await probeSsh('127.0.0.1', port, 500);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(id.banner).toBeUndefined();
  });

  it('returns nothing from a server that never speaks', async () => {
    const port = await hostile(() => undefined);
    expect(await probeSsh('127.0.0.1', port, 300)).toEqual({});
  });

  it('returns nothing from binary junk', async () => {
    const port = await hostile((s) => s.end(Buffer.from([0, 1, 2, 0xff, 0x0a, 0x1b, 0x5b])));
    expect((await probeSsh('127.0.0.1', port, 500)).banner).toBeUndefined();
  });
});

describe('other probes on hostile or plain servers', () => {
  it('reads a Docker API version and rejects a junk one', async () => {
    const body = JSON.stringify({ ApiVersion: '1.41', Version: '20.10' });
    const ok = await hostile((s) => s.once('data', () => s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`)));
    expect(await probeDockerVersion('127.0.0.1', ok, 1_000)).toBe('1.41');
    const junk = await hostile((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\n\r\n{"ApiVersion":"\u001b[2J"}')));
    expect(await probeDockerVersion('127.0.0.1', junk, 1_000)).toBeUndefined();
  });

  it('extracts and sanitises an HTML title, bounded', async () => {
    const port = await hostile((s) => s.once('data', () => s.end(`HTTP/1.1 200 OK\r\n\r\n<html><title>\u001b[5mGateway\n  UI</title>${'x'.repeat(200_000)}`)));
    expect(await probeHttpTitle('127.0.0.1', port, 1_000)).toBe('Gateway UI');
  });

  it('recognises an MQTT CONNACK and nothing else', async () => {
    const broker = await hostile((s) => s.once('data', () => s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]))));
    expect(await probeMqtt('127.0.0.1', broker, 1_000)).toBe(true);
    const http = await hostile((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    expect(await probeMqtt('127.0.0.1', http, 1_000)).toBe(false);
  });

  it('says plain TCP is not TLS', async () => {
    const port = await hostile((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    expect(await probeTls('127.0.0.1', port, 1_000)).toBe(false);
  });

  it('tells open, refused and silent apart', async () => {
    const port = await hostile(() => undefined);
    expect(await tcpProbe('127.0.0.1', port, 500)).toBe('open');
    const closed = await hostile(() => undefined);
    await new Promise((r) => servers.pop()?.close(r));
    expect(await tcpProbe('127.0.0.1', closed, 500)).toBe('refused');
  });
});
