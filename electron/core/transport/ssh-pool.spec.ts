import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutpostError } from '../../../shared/errors';
import { SshConnection, type SshDeps } from './ssh-connection';
import { SshPool } from './ssh-pool';

const deps = {} as SshDeps;
const target = { host: '10.0.0.5', port: 22, user: 'root', identityFile: '/k' };

/** A dial that settles when told. */
function pendingDial() {
  let settle!: { resolve(c: SshConnection): void; reject(e: Error): void };
  const promise = new Promise<SshConnection>((resolve, reject) => (settle = { resolve, reject }));
  return { promise, settle };
}

afterEach(() => vi.restoreAllMocks());

describe('SSH pool', () => {
  it('a caller joining a dial in progress with the same credentials and trust shares its outcome, a failure too', async () => {
    const dial = pendingDial();
    const open = vi.spyOn(SshConnection, 'open').mockReturnValue(dial.promise);
    const pool = new SshPool(deps);
    const ahead = pool.get(target, { acceptNew: true });
    const joined = pool.get({ ...target }, { acceptNew: true });
    dial.settle.reject(new OutpostError('unreachable', 'device 10.0.0.5 did not answer'));
    await expect(ahead).rejects.toMatchObject({ kind: 'unreachable' });
    // Not dialled a second time: an unreachable device's timeout is waited out once.
    await expect(joined).rejects.toMatchObject({ kind: 'unreachable' });
    expect(open).toHaveBeenCalledTimes(1);
  });

  it('a caller with other credentials or trust dials again when the dial in progress fails', async () => {
    const first = pendingDial();
    const conn = { isOpen: true, onClose: () => () => undefined } as unknown as SshConnection;
    const open = vi.spyOn(SshConnection, 'open').mockReturnValueOnce(first.promise).mockResolvedValue(conn);
    const pool = new SshPool(deps);
    const plain = pool.get(target, {});
    const withPassword = pool.get({ ...target, password: 'pw' }, {});
    const trusting = pool.get(target, { acceptNew: true });
    first.settle.reject(new OutpostError('host-key-unknown', 'unknown host key'));
    await expect(plain).rejects.toMatchObject({ kind: 'host-key-unknown' });
    expect(await withPassword).toBe(conn);
    expect(await trusting).toBe(conn);
    expect(open).toHaveBeenCalledTimes(3);
  });
});
