import type { EventBus, Router } from '../router';
import type { DevicesRepo } from '../store/devices-repo';

export function registerDevicesService(router: Router, bus: EventBus, repo: DevicesRepo): void {
  router.handle('devices:list', ({ query }) => repo.list(query));
  router.handle('devices:get', ({ id }) => repo.get(id));
  router.handle('devices:add', (input) => {
    const device = repo.add(input);
    bus.emit('devices:changed', { ids: [device.id] });
    return device;
  });
  router.handle('devices:update', (input) => {
    const device = repo.update(input);
    bus.emit('devices:changed', { ids: [device.id] });
    return device;
  });
  router.handle('devices:remove', ({ id }) => {
    const removed = repo.remove(id);
    if (removed) bus.emit('devices:changed', { ids: [id] });
    return { removed };
  });
}
