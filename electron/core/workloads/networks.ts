import type Docker from 'dockerode';

const BUILT_IN = new Set(['host', 'none', 'bridge', 'default']);

/**
 * A service whose `network_mode` names a network of its own gets a user-defined bridge network of that name on the
 * device, created on first deploy (inside the device's own network namespace; published ports then go through
 * Docker's userland proxy when the daemon runs without iptables). Built-in modes and `container:` are left alone.
 */
export async function ensureNetwork(docker: Docker, networkMode: string | undefined): Promise<boolean> {
  if (networkMode === undefined || BUILT_IN.has(networkMode) || networkMode.startsWith('container:')) return false;
  const existing = await docker.listNetworks({ filters: { name: [networkMode] } });
  if (existing.some((n) => n.Name === networkMode)) return false;
  await docker.createNetwork({ Name: networkMode, Driver: 'bridge', CheckDuplicate: true, Labels: { 'outpost.managed': 'true' } });
  return true;
}
