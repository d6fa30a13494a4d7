import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program';
import { linkFrom } from './link-flags';

function leaves(cmd: Command, path: string[] = []): Array<{ path: string; cmd: Command }> {
  const here = [...path, cmd.name()];
  if (!cmd.commands.length) return [{ path: here.slice(1).join(' '), cmd }];
  return cmd.commands.flatMap((c) => leaves(c, here));
}

// Inventory commands name a record that must exist; they never dial the device.
const INVENTORY_ONLY = new Set(['devices get', 'devices update', 'devices remove', 'trust-store forget', 'trust']);

describe('link flags', () => {
  it('every command that takes a <device> accepts --user, --identity, --port, --yes and --fingerprint', async () => {
    const io = { stdout: () => undefined, stderr: () => undefined, env: {}, setExitCode: () => undefined };
    const takesDevice = leaves(await buildProgram(io)).filter(({ cmd }) => cmd.registeredArguments.some((a) => /^device/.test(a.name())));
    expect(takesDevice.map((c) => c.path)).toEqual(expect.arrayContaining(['buffers scan', 'buffers config', 'flush', 'deploy', 'ps', 'logs', 'rollback', 'reconcile', 'diag', 'ssh install-key']));
    for (const { path, cmd } of takesDevice) {
      if (INVENTORY_ONLY.has(path)) continue;
      const flags = cmd.options.map((o) => o.long);
      expect({ path, flags }).toEqual({ path, flags: expect.arrayContaining(['--user', '--identity', '--port', '--yes', '--fingerprint']) });
    }
  });

  it('turns the flags into the contract’s one link shape, leaving out what was not given', () => {
    expect(linkFrom({})).toEqual({});
    expect(linkFrom({ user: 'pi', identity: '/k', port: 2222, yes: true, fingerprint: 'SHA256:x' })).toEqual({
      user: 'pi',
      identityFile: '/k',
      port: 2222,
      acceptNewHostKey: true,
      expectedFingerprint: 'SHA256:x',
    });
  });
});
