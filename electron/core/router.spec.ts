import { describe, expect, it, vi } from 'vitest';
import { EventBus, Router } from './router';

const errorOf = (envelope: unknown) => ((envelope as { error?: { kind: string; message: string } }).error ?? { kind: '', message: '' });

describe('Router.lazy', () => {
  it('builds a service on the first request to one of its areas, once, and only then', async () => {
    const router = new Router();
    let builds = 0;
    router.lazy(['devices'], async () => {
      builds++;
      router.handle('devices:list', () => []);
    });
    expect(builds).toBe(0);
    expect(router.has('devices:list')).toBe(true);
    const [a, b] = await Promise.all([router.dispatch('devices:list', {}), router.dispatch('devices:list', {})]);
    expect(a).toEqual({ result: [] });
    expect(b).toEqual({ result: [] });
    expect(builds).toBe(1);
    // An unknown channel does not build anything and answers not-found.
    expect(errorOf(await router.dispatch('nothing:here', {})).kind).toBe('not-found');
  });

  it('answers a service that failed to build with its error, and retries on the next request', async () => {
    const router = new Router();
    let attempt = 0;
    router.lazy(['devices'], async () => {
      if (++attempt === 1) throw new Error('first build fails');
      router.handle('devices:list', () => []);
    });
    expect(errorOf(await router.dispatch('devices:list', {})).message).toContain('first build fails');
    expect(await router.dispatch('devices:list', {})).toEqual({ result: [] });
  });

  it('validates arguments with the area schema loaded on demand', async () => {
    const router = new Router();
    router.handle('devices:get', ({ id }) => ({ id }) as never);
    expect(errorOf(await router.dispatch('devices:get', { id: 42 })).kind).toBe('invalid-input');
  });
});

describe('EventBus', () => {
  it('validates each event and delivers them in emission order, whether or not its area was loaded yet', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.subscribe((name, payload) => seen.push(`${name} ${JSON.stringify(payload)}`));
    bus.emit('app:online-changed', { online: true });
    bus.emit('app:online-changed', { online: false });
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    bus.emit('app:online-changed', { online: true });
    expect(seen).toEqual(['app:online-changed {"online":true}', 'app:online-changed {"online":false}', 'app:online-changed {"online":true}']);
  });
});
