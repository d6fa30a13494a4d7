import { beforeEach, describe, expect, it, vi } from 'vitest';

const calls: string[] = [];
let restartCodes: number[] = [];
vi.mock('./device-ops', () => ({
  writeRemote: async (_ssh: unknown, f: { path: string }) => void calls.push(`write ${f.path}`),
  restoreRemote: async (_ssh: unknown, paths: string[]) => void calls.push(`restore ${paths.join(',')}`),
  commitRemote: async (_ssh: unknown, paths: string[]) => void calls.push(`commit ${paths.join(',')}`),
  runOnDevice: async (_ssh: unknown, argv: string[]) => {
    calls.push(`run ${argv.join(' ')}`);
    return { code: restartCodes.shift() ?? 0, stdout: '', stderr: 'unit failed' };
  },
}));

const { applyServiceChange } = await import('./apply-change');
const ssh = {} as never;
const files = [{ path: '/etc/a.pem', content: 'a', owner: 'root:root', mode: '0644' }];

describe('applyServiceChange (the install transaction every target shares)', () => {
  beforeEach(() => {
    calls.length = 0;
    restartCodes = [];
  });

  it('writes, restarts, waits for the new state, then commits', async () => {
    let polls = 0;
    await applyServiceChange(ssh, { files, restartArgv: ['service', 'x', 'restart'], healthy: async () => ++polls >= 2, timeoutMs: 5_000, pollMs: 1, failed: () => new Error('no') });
    expect(calls).toEqual(['write /etc/a.pem', 'run service x restart', 'commit /etc/a.pem']);
  });

  it('a failed restart restores the files, restarts again, and says why and whether the service is back', async () => {
    restartCodes = [1, 0];
    const err = await applyServiceChange(ssh, {
      files,
      restartArgv: ['service', 'x', 'restart'],
      healthy: async () => true,
      backAsBefore: async () => true,
      failureReason: async () => 'bad config line 3',
      timeoutMs: 5_000,
      failed: (why, back) => Object.assign(new Error(why), { back }),
    }).catch((e: unknown) => e as Error & { back: boolean });
    expect(calls).toEqual(['write /etc/a.pem', 'run service x restart', 'restore /etc/a.pem', 'run service x restart']);
    expect(err).toMatchObject({ message: 'service x restart exited 1: unit failed — bad config line 3', back: true });
  });

  it('a service that never accepts the new state is rolled back at the deadline', async () => {
    const err = await applyServiceChange(ssh, { files, restartArgv: ['r'], healthy: async () => false, timeoutMs: 30, pollMs: 5, failed: (why, back) => Object.assign(new Error(why), { back }) }).catch((e: unknown) => e as Error & { back: boolean });
    expect(calls.at(-2)).toBe('restore /etc/a.pem');
    expect(err).toMatchObject({ back: true });
  });

  it('without a restart, writing is the whole change', async () => {
    await applyServiceChange(ssh, { files, restartArgv: null, timeoutMs: 0, failed: () => new Error('no') });
    expect(calls).toEqual(['write /etc/a.pem', 'commit /etc/a.pem']);
  });
});
