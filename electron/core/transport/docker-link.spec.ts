import { Duplex, PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dockerOverSsh } from './docker-link';
import type { SshConnection } from './ssh-connection';

// A stand-in connection whose object graph is as deep as a live ssh2 client's: docker-modem inspects the request
// options (agent included) with depth: null on every call, so the agent must not drag that graph in.
function deepConnection(): SshConnection {
  let node: Record<string, unknown> = { leaf: Buffer.alloc(64) };
  for (let i = 0; i < 2000; i++) node = { next: node, i, buf: Buffer.alloc(16) };
  return { graph: node, forwardUnix: async () => new PassThrough(), onClose: () => () => undefined } as unknown as SshConnection;
}

/**
 * A connection whose channels answer each HTTP request with `[]` (kept alive) until it closes; then, like ssh2's
 * closed channels, they swallow whatever is written and never answer.
 */
function answeringConnection() {
  const listeners: Array<() => void> = [];
  let open = true;
  const channel = () =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, done) {
        if (open && chunk.toString('latin1').includes('\r\n\r\n')) this.push('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]');
        done();
      },
    });
  const conn = {
    forwardUnix: async () => {
      if (!open) throw new Error('Not connected');
      return channel();
    },
    onClose: (l: () => void) => {
      listeners.push(l);
      return () => undefined;
    },
  } as unknown as SshConnection;
  return {
    conn,
    close: () => {
      open = false;
      for (const l of listeners) l();
    },
  };
}

describe('docker link', () => {
  it('inspects the agent as one short line however deep the SSH connection is', () => {
    const { agent } = dockerOverSsh(deepConnection(), { socketPath: '/run/docker.sock' });
    const text = inspect({ agent }, { showHidden: true, depth: null });
    expect(text).toContain('SshEngineAgent(forward /run/docker.sock)');
    expect(text.length).toBeLessThan(200);
  });

  it('once the SSH connection closes, the next call fails at once instead of waiting on a dead kept-alive channel', async () => {
    const { conn, close } = answeringConnection();
    const { docker } = dockerOverSsh(conn);
    expect(await docker.listContainers()).toEqual([]);
    close();
    const outcome = await Promise.race([
      docker.listContainers().then(
        () => 'answered',
        (err: Error) => `failed: ${err.message}`,
      ),
      new Promise((r) => setTimeout(() => r('still waiting after 2 s'), 2000)),
    ]);
    expect(outcome).toMatch(/^failed: /);
  });
});
