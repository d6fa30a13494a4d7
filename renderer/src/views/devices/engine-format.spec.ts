import { describe, expect, it } from 'vitest';
import { blankDevice, type EngineFound } from '../../../../shared/contract';
import { engineCaveats, engineView, productText, sourceText } from './engine-format';

const found: EngineFound = { socket: '/run/podman/podman.sock', source: 'podman', product: 'podman', version: '4.3.1', systemd: false, foundAt: '2026-11-30T10:00:00.000Z', tried: [] };
const tried = [{ socket: '/var/run/docker.sock', source: 'docker', result: 'no socket there' }];

describe('engine in the device drawer', () => {
  it('says which engine, why that place, and what differs on Podman without systemd', () => {
    expect(productText(found)).toBe('Podman 4.3.1');
    expect(sourceText('DOCKER_HOST')).toBe('DOCKER_HOST in the device’s login environment');
    expect(engineCaveats(found)).toEqual([expect.stringMatching(/^No systemd: .*Outpost runs them itself/), expect.stringMatching(/whole image/)]);
    expect(engineCaveats({ product: 'docker', systemd: false })).toEqual([]);
  });

  it('shows the last search: not looked for yet, found, or nothing answered (with what answered before)', () => {
    const d = blankDevice('d1', '2026-11-30T09:00:00.000Z');
    expect(engineView(d)).toEqual({ state: 'unknown' });
    expect(engineView({ ...d, docker: { engine: found } })).toEqual({ state: 'found', found });
    const later = { at: '2026-11-30T11:00:00.000Z', tried };
    expect(engineView({ ...d, docker: { engine: found, engineNotFound: later } })).toEqual({ state: 'not-found', at: later.at, tried, before: found });
    expect(engineView({ ...d, docker: { engineNotFound: later } })).toEqual({ state: 'not-found', at: later.at, tried, before: undefined });
    // An older failure than the last success is history, not news.
    expect(engineView({ ...d, docker: { engine: { ...found, foundAt: '2026-11-30T12:00:00.000Z' }, engineNotFound: later } }).state).toBe('found');
  });
});
