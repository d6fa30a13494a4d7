import { PassThrough } from 'node:stream';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dockerOverSsh } from './docker-link';
import type { SshConnection } from './ssh-connection';

// A stand-in connection whose object graph is as deep as a live ssh2 client's: docker-modem inspects the request
// options (agent included) with depth: null on every call, so the agent must not drag that graph in.
function deepConnection(): SshConnection {
  let node: Record<string, unknown> = { leaf: Buffer.alloc(64) };
  for (let i = 0; i < 2000; i++) node = { next: node, i, buf: Buffer.alloc(16) };
  return { graph: node, forwardUnix: async () => new PassThrough() } as unknown as SshConnection;
}

describe('docker link', () => {
  it('inspects the agent as one short line however deep the SSH connection is', () => {
    const { agent } = dockerOverSsh(deepConnection(), { socketPath: '/run/docker.sock' });
    const text = inspect({ agent }, { showHidden: true, depth: null });
    expect(text).toContain('SshEngineAgent(forward /run/docker.sock)');
    expect(text.length).toBeLessThan(200);
  });
});
