import type { Device } from '../../../shared/contract';
import type { LinkOptions } from '../../../shared/contract';
import { ON_DEVICE_KINDS, TargetError, formatTarget, parseTarget, type ProbeTarget } from '../../../shared/latency/targets';
import { OutpostError } from '../../../shared/errors';
import type { EngineRegistry } from '../engines/registry';
import { dialAddress, type DeviceLinks } from '../transport/device-links';
import { onDeviceProbe } from './on-device-probe';
import { callProbe, httpProbe, icmpProbe, mqttProbe, tcpProbe, timed, type Probe } from './probes';

export interface ProbeDeps {
  links: DeviceLinks;
  engines: EngineRegistry;
}

export function parseTargetOrThrow(spec: string): ProbeTarget {
  try {
    return parseTarget(spec);
  } catch (err) {
    if (err instanceof TargetError) throw new OutpostError('invalid-input', err.message);
    throw err;
  }
}

const urlHost = (h: string) => (h.includes(':') ? `[${h}]` : h);

/** Builds the probe for a target on a device; a host left out of the target is the device's own address. */
export async function createProbe(deps: ProbeDeps, device: Device, target: ProbeTarget, onDevice: boolean, link: LinkOptions | undefined): Promise<Probe> {
  if (onDevice) {
    if (!ON_DEVICE_KINDS.includes(target.kind)) throw new OutpostError('invalid-input', `${formatTarget(target)} cannot run on the device; on-device probes are tcp and http`);
    const conn = await deps.links.ssh(device, link);
    if (target.kind === 'tcp') return onDeviceProbe(conn, { kind: 'tcp', host: target.host ?? '127.0.0.1', port: target.port }, device.name);
    if (target.kind === 'http') {
      if (target.tls) throw new OutpostError('unsupported', 'on-device probes speak plain HTTP; probe https targets from the laptop');
      return onDeviceProbe(conn, { kind: 'http', host: target.host ?? '127.0.0.1', port: target.port, path: target.path }, device.name);
    }
  }
  switch (target.kind) {
    case 'tcp':
      return tcpProbe(target.host ?? dialAddress(device), target.port);
    case 'http':
      return httpProbe({ tls: target.tls, host: target.host ?? dialAddress(device), port: target.port, path: target.path });
    case 'icmp':
      return icmpProbe(target.host ?? dialAddress(device));
    case 'mqtt':
      return mqttProbe(`${target.tls ? 'mqtts' : 'mqtt'}://${urlHost(target.host ?? dialAddress(device))}:${target.port}`);
    case 'ssh': {
      const opts = link;
      // Connect (and pin, if allowed) up front: a refused key or an unknown host key is an error, not 100 % loss.
      await deps.links.ssh(device, opts);
      return callProbe('SSH round trip (keepalive request on the persistent connection)', `ssh ${device.name}`, async (timeoutMs) => (await deps.links.ssh(device, opts)).ping(timeoutMs));
    }
    case 'docker': {
      await deps.engines.engine(device, link);
      return callProbe('Docker API /_ping over the device link', `docker ${device.name}`, async () => {
        const engine = await deps.engines.engine(device, link);
        return timed(() => engine.docker.ping());
      });
    }
  }
}
