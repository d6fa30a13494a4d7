import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../shared/errors';
import { OwnedSessions } from './owned-sessions';

describe('OwnedSessions', () => {
  it('closes exactly the sessions its client opened and did not close, once', async () => {
    const calls: Array<[string, unknown]> = [];
    let next = 0;
    const owned = new OwnedSessions(async (channel, args): Promise<Envelope<unknown>> => {
      calls.push([channel, args]);
      if (channel === 'sessions:open') return { result: { sessionId: `s${++next}`, windowBytes: 1 } };
      if (channel === 'sessions:close') return { result: { closed: true } };
      if (channel === 'devices:get') return { error: { kind: 'not-found', message: 'no' } };
      return { result: {} };
    });
    await owned.dispatch('sessions:open', {});
    await owned.dispatch('sessions:open', {});
    await owned.dispatch('sessions:open', {});
    await owned.dispatch('sessions:close', { sessionId: 's2' });
    await owned.dispatch('devices:get', { id: 'x' });
    expect(owned.size).toBe(2);
    calls.length = 0;
    await owned.closeAll();
    expect(calls).toEqual([
      ['sessions:close', { sessionId: 's1' }],
      ['sessions:close', { sessionId: 's3' }],
    ]);
    calls.length = 0;
    await owned.closeAll();
    expect(calls).toEqual([]);
  });
});
