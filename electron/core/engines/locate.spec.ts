import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EngineFound } from '../../../shared/contract';
import type { SshConnection } from '../transport/ssh-connection';
import { locateKnownEngine, pingShowsRecorded } from './locate';

const DOCKER_VERSION = {
  Version: '20.10.24+dfsg1',
  ApiVersion: '1.41',
  Platform: { Name: '' },
  Components: [{ Name: 'Engine', Version: '20.10.24+dfsg1' }],
};

const known: EngineFound = {
  socket: '/var/run/docker.sock',
  source: 'docker',
  product: 'docker',
  version: '20.10.24+dfsg1',
  apiVersion: '1.41',
  systemd: false,
  foundAt: '2026-11-30T10:00:00.000Z',
  tried: [],
};

/** An engine behind a stand-in SSH connection, answering like dockerd (`Server` and `Api-Version` on every reply). */
function engineConnection(server: { version: string; api: string; name?: string; pingStatus?: number }) {
  const asked: string[] = [];
  const runs: string[][] = [];
  const headers = `Server: ${server.name ?? 'Docker'}/${server.version} (linux)\r\nApi-Version: ${server.api}\r\n`;
  const reply = (path: string): string => {
    if (path === '/_ping') {
      const status = server.pingStatus ?? 200;
      return `HTTP/1.1 ${status} X\r\n${headers}Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK`;
    }
    const body = path === '/version' ? JSON.stringify({ ...DOCKER_VERSION, Version: server.version, ApiVersion: server.api }) : '[]';
    return `HTTP/1.1 200 OK\r\n${headers}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };
  const channel = () => {
    let pending = '';
    return new Duplex({
      read() {},
      write(chunk: Buffer, _enc, done) {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const path = (/^[A-Z]+ (\S+)/.exec(pending)?.[1] ?? '').split('?')[0] as string;
          pending = pending.slice(end + 4);
          asked.push(path);
          this.push(reply(path));
        }
        done();
      },
    });
  };
  const conn = {
    forwardUnix: async () => channel(),
    onClose: () => () => undefined,
    run: async (argv: string[]) => {
      runs.push(argv);
      return { code: 0, stdout: Buffer.from('uid 0\nenv \nlogin \nsocket /var/run/docker.sock\n'), stderr: '' };
    },
  } as unknown as SshConnection;
  return { conn, asked, runs };
}

describe('a recorded engine, asked directly', () => {
  it('is confirmed by one /_ping when its headers show the recorded engine: no /version (it runs runc and docker-init on the device), no probe', async () => {
    const { conn, asked, runs } = engineConnection({ version: '20.10.24+dfsg1', api: '1.41' });
    const located = await locateKnownEngine(conn, 'gw-1', undefined, known);
    expect(located.found).toEqual(known);
    expect(asked).toEqual(['/_ping']);
    expect(runs).toEqual([]);
    // The channel the ping opened serves the next call.
    expect(await located.docker.listContainers()).toEqual([]);
  });

  it('asks /version again when the ping shows another version (the engine was upgraded), and records what answered', async () => {
    const { conn, asked, runs } = engineConnection({ version: '24.0.7', api: '1.43' });
    const located = await locateKnownEngine(conn, 'gw-1', undefined, known);
    expect(asked).toEqual(['/_ping', '/version']);
    expect(located.found).toMatchObject({ socket: known.socket, source: 'docker', product: 'docker', version: '24.0.7', apiVersion: '1.43', foundAt: known.foundAt });
    expect(runs).toEqual([]);
  });

  it('looks again in full when the recorded place does not answer the ping', async () => {
    const { conn, asked, runs } = engineConnection({ version: '20.10.24+dfsg1', api: '1.41', pingStatus: 500 });
    const located = await locateKnownEngine(conn, 'gw-1', undefined, known, { now: () => new Date('2026-12-01T00:00:00Z') });
    expect(runs).toHaveLength(1);
    expect(asked).toEqual(['/_ping', '/version']);
    expect(located.found).toMatchObject({ socket: '/var/run/docker.sock', foundAt: '2026-12-01T00:00:00.000Z' });
  });
});

describe('pingShowsRecorded', () => {
  const h = (server: string | undefined, api: string | undefined, extra: Record<string, string> = {}) => ({ ...(server ? { server } : {}), ...(api ? { 'api-version': api } : {}), ...extra });
  it('matches the same engine, version and API version', () => {
    expect(pingShowsRecorded(known, h('Docker/20.10.24+dfsg1 (linux)', '1.41'))).toBe(true);
  });
  it('does not match another version, another API version, a missing Server header, or a record without a version', () => {
    expect(pingShowsRecorded(known, h('Docker/20.10.25 (linux)', '1.41'))).toBe(false);
    expect(pingShowsRecorded(known, h('Docker/20.10.24+dfsg1 (linux)', '1.43'))).toBe(false);
    expect(pingShowsRecorded(known, h(undefined, '1.41'))).toBe(false);
    expect(pingShowsRecorded({ ...known, version: undefined }, h('Docker/20.10.24+dfsg1 (linux)', '1.41'))).toBe(false);
  });
  it('tells Podman from Docker: a Libpod server is not the Docker engine recorded, and the other way round', () => {
    const podman: EngineFound = { ...known, product: 'podman', version: '4.3.1', apiVersion: '1.41' };
    expect(pingShowsRecorded(podman, h('Libpod/4.3.1 (linux)', '1.41', { 'libpod-api-version': '4.3.1' }))).toBe(true);
    expect(pingShowsRecorded(known, h('Libpod/20.10.24+dfsg1 (linux)', '1.41'))).toBe(false);
    expect(pingShowsRecorded(podman, h('Docker/4.3.1 (linux)', '1.41'))).toBe(false);
  });
});
