import { describe, expect, it } from 'vitest';
import { blankDevice } from '../../../shared/contract';
import { livenessPort } from './continuous';

const base = blankDevice('a', '', { name: 'a', addresses: ['10.0.0.1'], sources: ['mdns'], state: 'online' });

describe('livenessPort', () => {
  it('knocks on SSH when the device has it, on its only service otherwise, and on the SSH port as a last resort', () => {
    expect(livenessPort({ ...base, services: [{ type: '_ssh._tcp', port: 22, txt: {} }] })).toBe(22);
    expect(livenessPort({ ...base, services: [{ type: '_mqtt._tcp', port: 1883, txt: {} }] })).toBe(1883);
    // A host that so far announced only its address (its services come later) is still checked.
    expect(livenessPort(base)).toBe(22);
    expect(livenessPort({ ...base, ssh: { port: 2222, user: 'pi', hostKeyFingerprint: 'SHA256:x' } })).toBe(2222);
  });
});
