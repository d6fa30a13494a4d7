import type { Device, EngineFound } from '../../../../shared/contract';

/** Why Outpost looked at that place, as a technician reads it. */
export function sourceText(source: string): string {
  switch (source) {
    case 'setting':
      return 'this device’s engine socket setting';
    case 'DOCKER_HOST':
      return 'DOCKER_HOST in the device’s login environment';
    case 'docker':
      return 'Docker’s standard socket';
    case 'balena-engine':
      return 'balena-engine’s socket';
    case 'podman':
      return 'Podman’s system service socket';
    case 'rootless-docker':
      return 'rootless Docker of the login user';
    case 'rootless-podman':
      return 'rootless Podman of the login user';
    default:
      return source;
  }
}

const PRODUCT: Record<EngineFound['product'], string> = { docker: 'Docker', podman: 'Podman', 'balena-engine': 'balena-engine' };

/** "Podman 4.3.1" */
export function productText(found: Pick<EngineFound, 'product' | 'version'>): string {
  return `${PRODUCT[found.product]}${found.version ? ` ${found.version}` : ''}`;
}

/** What differs on this engine, said before a technician meets it in a rollout (empty when nothing does). */
export function engineCaveats(found: Pick<EngineFound, 'product' | 'systemd'>): string[] {
  if (found.product !== 'podman') return [];
  const out = ['Upgrades send the whole image: Podman refuses an archive holding only the layers the device lacks.'];
  if (found.systemd === false) out.unshift('No systemd: Podman runs no healthchecks here, so Outpost runs them itself to gate a rollout.');
  return out;
}

export type EngineView =
  | { state: 'unknown' }
  | { state: 'found'; found: EngineFound }
  | { state: 'not-found'; at: string; tried: EngineFound['tried']; before?: EngineFound };

/** What the drawer shows: the last search's outcome (a failed search after a success says so, with what answered before). */
export function engineView(device: Device): EngineView {
  const found = device.docker?.engine;
  const missing = device.docker?.engineNotFound;
  if (missing && (!found || Date.parse(missing.at) >= Date.parse(found.foundAt))) return { state: 'not-found', at: missing.at, tried: missing.tried, before: found };
  if (found) return { state: 'found', found };
  return { state: 'unknown' };
}
